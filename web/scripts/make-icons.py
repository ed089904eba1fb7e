"""Renders public/icons/icon.svg to the PNG icons the manifest lists (run once after a change).

uv run python web/scripts/make-icons.py
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "public" / "icons"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]


def main() -> None:
    svg = (ICONS / "icon.svg").read_text()
    # The maskable icon keeps its content inside the 80 % safe zone on a full-bleed background.
    maskable = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        '<rect width="64" height="64" fill="#4a5bd4"/>'
        f'<g transform="translate(9.6 9.6) scale(.7)">{svg}</g></svg>'
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for name, source, size in [
            ("icon-192.png", svg, 192),
            ("icon-512.png", svg, 512),
            ("maskable-512.png", maskable, 512),
        ]:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(
                "<html><body style='margin:0;background:transparent'>"
                f"<div style='width:{size}px;height:{size}px'>{source}</div></body></html>"
            )
            page.locator("svg").first.evaluate(
                f"e => {{ e.setAttribute('width', {size}); e.setAttribute('height', {size}); }}"
            )
            page.screenshot(path=str(ICONS / name), omit_background=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
