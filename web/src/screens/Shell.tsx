import { ClipboardCheck, MessageCircle, Plus, RotateCw, UserRound, Users, WifiOff } from 'lucide-react';
import { useEffect, useState, type ReactNode } from 'react';
import { useChat, useConnectionStatus, useIsDesktop, useSession } from '../app/context';
import { useCurrentOrg } from '../app/orgs';
import { navigate, type Route } from '../app/router';
import { useI18n } from '../i18n';
import { Avatar } from '../ui/Avatar';
import { Dialog } from '../ui/Dialog';
import { Logo } from '../ui/Logo';
import { DingAlert } from '../office/DingAlert';
import { OfficeScreen } from '../office/OfficeScreen';
import { ChatList } from './ChatList';
import { ChatView } from './ChatView';
import { MeScreen } from './MeScreen';
import { CreateTeamForm, Onboarding } from './Onboarding';
import { TeamScreen } from './TeamScreen';

interface Props {
  route: Route;
  onLogout: () => void;
}

export function Shell({ route, onLogout }: Props) {
  const { t } = useI18n();
  const desktop = useIsDesktop();
  const { org, orgs, loading, failed, retry, select } = useCurrentOrg();
  const [creatingTeam, setCreatingTeam] = useState(false);
  useUnreadTitle();
  const conversationOrg = useChat((s) => (route.name === 'chat' ? s.conversations[route.conversationId]?.org_id : undefined));

  // Opening a conversation of another team switches to that team.
  useEffect(() => {
    if (conversationOrg && org && conversationOrg !== org.id) select(conversationOrg);
  }, [conversationOrg, org, select]);

  if (loading || failed)
    return (
      <div className="splash-page">
        <ConnectionBanner />
        <div className="splash" aria-busy={loading}>
          <Logo size={56} />
          {failed && (
            <div className="stack center">
              <p className="muted">{t('error.network')}</p>
              <button type="button" className="button button-secondary" onClick={retry}>
                {t('send.retry')}
              </button>
            </div>
          )}
        </div>
      </div>
    );
  if (!org) return (
    <>
      <ConnectionBanner />
      <Onboarding />
    </>
  );

  const section = route.name === 'team' || route.name === 'me' || route.name === 'office' ? route.name : 'chats';
  const chatId = route.name === 'chat' ? route.conversationId : null;
  const openTeamCreation = () => setCreatingTeam(true);

  let content: ReactNode;
  if (section === 'team') content = <TeamScreen org={org} />;
  else if (section === 'office') content = <OfficeScreen org={org} />;
  else if (section === 'me') content = <MeScreen onLogout={onLogout} onCreateTeam={openTeamCreation} />;
  else if (desktop)
    content = (
      <>
        <aside className="sidebar">
          <ChatList org={org} orgs={orgs} selectedId={chatId} onCreateTeam={openTeamCreation} />
        </aside>
        <main className="main-pane" id="main">
          {chatId ? <ChatView key={chatId} conversationId={chatId} /> : <EmptyChat />}
        </main>
      </>
    );
  else content = chatId ? <ChatView key={chatId} conversationId={chatId} /> : <ChatList org={org} orgs={orgs} selectedId={null} onCreateTeam={openTeamCreation} />;

  const showTabs = !desktop && !chatId;
  return (
    <div className={`app ${desktop ? 'app-desktop' : 'app-phone'}`}>
      <a className="skip-link" href="#main">
        {t('nav.skip')}
      </a>
      {desktop && <Rail section={section} onCreateTeam={openTeamCreation} />}
      <div className="app-body">
        <ConnectionBanner />
        <div className={`app-content section-${section}`}>{content}</div>
        {showTabs && <TabBar section={section} />}
      </div>
      <DingAlert orgId={org.id} />
      {creatingTeam && (
        <Dialog title={t('team.createTitle')} onClose={() => setCreatingTeam(false)}>
          <p className="muted">{t('team.createHint')}</p>
          <CreateTeamForm onCreated={() => setCreatingTeam(false)} />
        </Dialog>
      )}
    </div>
  );
}

function EmptyChat() {
  const { t } = useI18n();
  return (
    <div className="empty-state empty-chat">
      <div className="empty-illustration" aria-hidden="true">
        <MessageCircle size={40} />
      </div>
      <h2>{t('chats.pickOne')}</h2>
      <p className="muted">{t('chats.pickOneHint')}</p>
    </div>
  );
}

function useTotalUnread(): number {
  return useChat((s) => Object.values(s.conversations).reduce((n, c) => n + c.unread_count, 0));
}

/** "(3) Knock" in the tab title (and on the app icon) while something is unread. */
function useUnreadTitle(): void {
  const unread = useTotalUnread();
  useEffect(() => {
    document.title = unread > 0 ? `(${unread > 99 ? '99+' : unread}) Knock` : 'Knock';
    // The installed app's icon badge, where the platform has one.
    const nav = navigator as Navigator & { setAppBadge?: (n: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
    (unread > 0 ? nav.setAppBadge?.(unread) : nav.clearAppBadge?.())?.catch(() => undefined);
  }, [unread]);
}

const SECTIONS = [
  { id: 'chats', icon: MessageCircle, label: 'nav.chats', route: { name: 'chats' } },
  { id: 'office', icon: ClipboardCheck, label: 'nav.office', route: { name: 'office' } },
  { id: 'team', icon: Users, label: 'nav.team', route: { name: 'team' } },
  { id: 'me', icon: UserRound, label: 'nav.me', route: { name: 'me' } },
] as const;

function TabBar({ section }: { section: string }) {
  const { t } = useI18n();
  const unread = useTotalUnread();
  return (
    <nav className="tabbar" aria-label={t('nav.main')}>
      {SECTIONS.map(({ id, icon: Icon, label, route }) => (
        <a
          key={id}
          href={id === 'chats' ? '/' : `/${id}`}
          className="tab"
          aria-current={section === id ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            navigate(route);
          }}
        >
          <span className="tab-icon">
            <Icon size={24} aria-hidden="true" />
            {id === 'chats' && unread > 0 && <span className="badge badge-dot-count">{unread > 99 ? '99+' : unread}</span>}
          </span>
          <span className="tab-label">{t(label)}</span>
        </a>
      ))}
    </nav>
  );
}

function Rail({ section, onCreateTeam }: { section: string; onCreateTeam: () => void }) {
  const { t } = useI18n();
  const { me } = useSession();
  const { org, orgs, select } = useCurrentOrg();
  const unread = useTotalUnread();
  return (
    <nav className="rail" aria-label={t('nav.main')}>
      <div className="rail-logo">
        <Logo size={36} />
      </div>
      <ul className="rail-teams" aria-label={t('nav.teams')}>
        {orgs.map((o) => (
          <li key={o.id}>
            <button
              type="button"
              className="rail-team"
              aria-pressed={o.id === org?.id}
              aria-label={t('team.current', { name: o.name })}
              title={o.name}
              onClick={() => {
                select(o.id);
                navigate({ name: 'chats' });
              }}
            >
              <Avatar id={o.id} name={o.name} size="md" group />
            </button>
          </li>
        ))}
        <li>
          <button type="button" className="rail-team rail-add" aria-label={t('team.create')} title={t('team.create')} onClick={onCreateTeam}>
            <Plus size={20} aria-hidden="true" />
          </button>
        </li>
      </ul>
      <div className="rail-spacer" />
      <ul className="rail-nav">
        {SECTIONS.map(({ id, icon: Icon, label, route }) => (
          <li key={id}>
            <a
              href={id === 'chats' ? '/' : `/${id}`}
              className="rail-link"
              aria-current={section === id ? 'page' : undefined}
              aria-label={t(label)}
              title={t(label)}
              onClick={(e) => {
                e.preventDefault();
                navigate(route);
              }}
            >
              {id === 'me' ? <Avatar id={me.id} name={me.display_name} size="sm" /> : <Icon size={22} aria-hidden="true" />}
              {id === 'chats' && unread > 0 && <span className="badge badge-dot-count">{unread > 99 ? '99+' : unread}</span>}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** Says when we are offline or reconnecting; silent for blips shorter than a second. */
function ConnectionBanner() {
  const { t } = useI18n();
  const session = useSession();
  const status = useConnectionStatus();
  const [online, setOnline] = useState(navigator.onLine);
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);
  const down = !online || status !== 'online';
  useEffect(() => {
    if (!down) {
      setVisible(false);
      return;
    }
    const timer = setTimeout(() => setVisible(true), online ? 1200 : 0);
    return () => clearTimeout(timer);
  }, [down, online]);

  return (
    <div className="conn-region" role="status" aria-live="polite">
      {visible && down && (
        <div className={`conn-banner ${online ? 'conn-reconnecting' : 'conn-offline'}`} data-testid="offline-banner">
          {online ? <RotateCw size={16} className="spin" aria-hidden="true" /> : <WifiOff size={16} aria-hidden="true" />}
          <span>{online ? t('conn.connecting') : t('conn.offline')}</span>
          {online && (
            <button type="button" className="link-button" onClick={() => session.reconnectNow()}>
              {t('conn.retryNow')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}
