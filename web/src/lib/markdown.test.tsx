import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Markdown } from './Markdown';
import { parseInline, safeUrl, toPlainText } from './markdown';

const html = (text: string, mentions: { userId: string; name: string }[] = []) =>
  renderToStaticMarkup(<Markdown text={text} mentions={mentions} meId="me" />);

describe('markdown subset', () => {
  it('renders emphasis, code and strike', () => {
    expect(html('**bold** *it* _it2_ ~~gone~~ `x<y`')).toBe(
      '<p><strong>bold</strong> <em>it</em> <em>it2</em> <del>gone</del> <code>x&lt;y</code></p>',
    );
  });

  it('keeps snake_case and lone stars as text', () => {
    expect(html('snake_case_name and 2 * 3 * 4')).toBe('<p>snake_case_name and 2 * 3 * 4</p>');
  });

  it('keeps line breaks and splits paragraphs on blank lines', () => {
    expect(html('a\nb\n\nc')).toBe('<p>a<br/>b</p><p>c</p>');
  });

  it('renders fenced code verbatim', () => {
    expect(html('```\n**not bold** <b>\n```')).toBe('<pre><code>**not bold** &lt;b&gt;</code></pre>');
  });

  it('renders quotes and lists', () => {
    expect(html('> quoted\n- one\n- two')).toBe('<blockquote><p>quoted</p></blockquote><ul><li>one</li><li>two</li></ul>');
  });

  it('opens links in a new tab without opener', () => {
    expect(html('[site](https://example.com/a?b=1)')).toBe(
      '<p><a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer nofollow">site</a></p>',
    );
  });

  it('autolinks bare URLs without trailing punctuation', () => {
    expect(html('see https://example.com/x.')).toBe(
      '<p>see <a href="https://example.com/x" target="_blank" rel="noopener noreferrer nofollow">https://example.com/x</a>.</p>',
    );
  });
});

describe('markdown safety', () => {
  it('shows a script tag as text', () => {
    const out = html('<script>alert(1)</script>');
    expect(out).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(out).not.toContain('<script');
  });

  it('shows raw HTML as text', () => {
    const out = html('<img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a>');
    expect(out).not.toContain('<img');
    expect(out).not.toContain('<a ');
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('drops javascript: and data: link targets but keeps the words', () => {
    for (const target of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html;base64,PHNjcmlwdD4=', 'vbscript:x', '/relative']) {
      const out = html(`[click](${target})`);
      expect(out).toBe('<p>click</p>');
    }
  });

  it('refuses obfuscated javascript URLs', () => {
    expect(safeUrl('java\tscript:alert(1)')).toBeNull();
    expect(safeUrl(' javascript:alert(1)')).toBeNull();
    expect(safeUrl('https://ok.example/')).toBe('https://ok.example/');
    expect(safeUrl('mailto:a@b.c')).toBe('mailto:a@b.c');
  });

  it('escapes attribute breakers inside link targets', () => {
    const out = html('[x](https://e.com/"onmouseover="alert(1))');
    expect(out).not.toContain('" onmouseover');
    expect(out).not.toMatch(/onmouseover="alert/);
  });
});

describe('mentions', () => {
  const people = [
    { userId: 'u1', name: 'Ann' },
    { userId: 'u2', name: 'Ann Lee' },
    { userId: 'me', name: 'Bo' },
  ];

  it('prefers the longest matching name', () => {
    expect(parseInline('hi @Ann Lee!', people)).toEqual([
      { t: 'text', v: 'hi ' },
      { t: 'mention', userId: 'u2', v: '@Ann Lee' },
      { t: 'text', v: '!' },
    ]);
  });

  it('highlights mentions of me', () => {
    expect(html('@Bo look', people)).toBe('<p><span class="mention mention-me">@Bo</span> look</p>');
  });

  it('ignores @ inside words (emails)', () => {
    expect(html('mail ann@Ann.com', people)).toBe('<p>mail ann@Ann.com</p>');
  });
});

describe('plain text previews', () => {
  it('strips markers', () => {
    expect(toPlainText('**Hi** _there_\n> quoted\n`code`')).toBe('Hi there quoted code');
  });
});
