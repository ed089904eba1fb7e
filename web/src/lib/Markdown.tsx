import { Fragment, type ReactNode } from 'react';
import { parseMarkdown, type Block, type Inline, type MentionTarget } from './markdown';

interface Props {
  text: string;
  mentions?: readonly MentionTarget[];
  meId?: string | null;
}

/** Renders the safe markdown subset as React elements (never as an HTML string). */
export function Markdown({ text, mentions = [], meId = null }: Props) {
  return <>{parseMarkdown(text, mentions).map((b, i) => renderBlock(b, i, meId))}</>;
}

function renderBlock(block: Block, key: number, meId: string | null): ReactNode {
  switch (block.t) {
    case 'p':
      return <p key={key}>{renderInlines(block.c, meId)}</p>;
    case 'pre':
      return (
        <pre key={key}>
          <code>{block.v}</code>
        </pre>
      );
    case 'quote':
      return <blockquote key={key}>{block.c.map((b, i) => renderBlock(b, i, meId))}</blockquote>;
    case 'ul':
      return (
        <ul key={key}>
          {block.items.map((item, i) => (
            <li key={i}>{renderInlines(item, meId)}</li>
          ))}
        </ul>
      );
  }
}

function renderInlines(nodes: Inline[], meId: string | null): ReactNode {
  return nodes.map((n, i) => <Fragment key={i}>{renderInline(n, meId)}</Fragment>);
}

function renderInline(node: Inline, meId: string | null): ReactNode {
  switch (node.t) {
    case 'text':
      return node.v;
    case 'br':
      return <br />;
    case 'code':
      return <code>{node.v}</code>;
    case 'strong':
      return <strong>{renderInlines(node.c, meId)}</strong>;
    case 'em':
      return <em>{renderInlines(node.c, meId)}</em>;
    case 'del':
      return <del>{renderInlines(node.c, meId)}</del>;
    case 'link':
      return (
        <a href={node.href} target="_blank" rel="noopener noreferrer nofollow">
          {renderInlines(node.c, meId)}
        </a>
      );
    case 'mention':
      return <span className={node.userId === meId || node.userId === 'all' ? 'mention mention-me' : 'mention'}>{node.v}</span>;
  }
}
