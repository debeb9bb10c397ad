"""A feedback page that everyone can read (WCAG 2.1 AA where a generated page can): nbgrader's page
as it comes, with the language declared, links that stand out by more than colour and meet the
contrast ratio, text outputs that wrap at 200 % zoom instead of scrolling sideways, wide outputs
that can be scrolled from the keyboard, and figures described by the activity they belong to
instead of nbconvert's "No description has been provided for this image"."""
from __future__ import annotations

import bisect
import html
import re

LANG = "en"
# nbconvert's alt text for an image output that carries none of its own
PLACEHOLDER_ALT = 'alt="No description has been provided for this image"'
# code and its outputs sit on a light grey; their colours are darkened until they reach 4.5:1 on it
CODE_BACKGROUND = "#f0f0f0"
CONTRAST = 4.6
STYLE = """<meta name="viewport" content="width=device-width, initial-scale=1">
<style id="labkit-readable">
a { color: #1a4f8b; text-decoration: underline; }
div.nbgrader_cell .panel-heading a, div.nbgrader_cell .panel-heading a:visited { color: #ffffff; }
div.output_text pre, div.output_subarea > pre, div.input_area pre { white-space: pre-wrap; overflow-wrap: anywhere; }
img { max-width: 100%; height: auto; }
:focus-visible { outline: 3px solid #1a4f8b; outline-offset: 2px; }
{code_colours}</style>
"""
_HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# outputs that keep their own layout (Keras' model summary): scrolled, so reachable by the keyboard
_SCROLLED_PRE = re.compile(r"<pre(?![^>]*\btabindex=)(?=[^>]*overflow-x:\s*auto)", re.IGNORECASE)
# colour rules of the syntax highlighting and of terminal colours in outputs, and inline colours
_CODE_RULE = re.compile(r"(\.highlight \.[\w-]+|\.ansi-[\w-]+-fg)\s*\{[^}]*?(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})\b")
_INLINE_COLOUR = re.compile(r'(<span [^>]*?style="[^"]*?(?<![-\w])color:\s*)(#[0-9a-fA-F]{6}\b|rgb\([\d\s,]+\))')


def _rgb(colour: str) -> tuple[int, int, int]:
    """(red, green, blue) of #rgb, #rrggbb or rgb(r, g, b)."""
    if colour.startswith("rgb("):
        red, green, blue = (int(part) for part in colour[4:-1].split(","))
        return red, green, blue
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _luminance(rgb) -> float:
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG's contrast ratio of two colours (#rgb or #rrggbb)."""
    lighter, darker = sorted((_luminance(_rgb(foreground)), _luminance(_rgb(background))), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable(colour: str, background: str = CODE_BACKGROUND) -> str:
    """`colour`, or the same hue darkened until it reaches CONTRAST on `background`."""
    if contrast(colour, background) >= CONTRAST:
        return colour
    rgb, scale = _rgb(colour), 1.0
    while scale > 0:
        scale -= 0.05
        darker = "#" + "".join(f"{round(c * scale):02x}" for c in rgb)
        if contrast(darker, background) >= CONTRAST:
            return darker
    return "#000000"


def code_colours(page: str) -> str:
    """Rules that darken the page's highlighting and terminal colours that are too light."""
    rules = {}
    for match in _CODE_RULE.finditer(page):
        darker = readable(match.group(2))
        if darker != match.group(2):
            rules[match.group(1)] = f"{match.group(1)} {{ color: {darker}; }}"
    return "".join(rule + "\n" for rule in rules.values())


def inline_colours(page: str) -> str:
    """Outputs that colour their own text (Keras' model summary) in colours dark enough to read."""
    return _INLINE_COLOUR.sub(lambda match: match.group(1) + readable(match.group(2)), page)


def with_lang(page: str) -> str:
    """<html lang="en"> unless the page names its language."""
    match = re.search(r"<html\b[^>]*>", page, re.IGNORECASE)
    if match is None:
        return f'<html lang="{LANG}">' + page + "</html>"
    if re.search(r"\blang=", match.group(0), re.IGNORECASE):
        return page
    return page[: match.start()] + f'<html lang="{LANG}"' + page[match.start() + len("<html"):]


def with_style(page: str) -> str:
    """The readable style last in <head>, so that it wins over nbconvert's own."""
    if 'id="labkit-readable"' in page:
        return page
    style = STYLE.replace("{code_colours}", code_colours(page))
    at = page.lower().find("</head>")
    return style + page if at < 0 else page[:at] + style + page[at:]


def scrollable_reachable(page: str) -> str:
    """Wide outputs that scroll sideways can take the keyboard's focus, so they can be scrolled."""
    return _SCROLLED_PRE.sub('<pre tabindex="0"', page)


def headings_in_order(page: str) -> str:
    """nbgrader's score heading one level below the summary's (h3, not h4), so no level is skipped."""
    return re.sub(r"<h4>([^<]*\(Score: [^<]*)</h4>", r"<h3>\1</h3>", page, count=1)


def heading_text(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", markup)).replace("\u00b6", "").split())


def described_images(page: str) -> str:
    """Each image without a description of its own says which part of the notebook drew it."""
    headings = [(match.start(), heading_text(match.group(2))) for match in _HEADING.finditer(page)]
    starts = [start for start, _ in headings]

    def describe(match: re.Match) -> str:
        before = bisect.bisect_left(starts, match.start()) - 1
        where = f"under \u201c{headings[before][1]}\u201d" if before >= 0 and headings[before][1] else "in the notebook"
        return f'alt="{html.escape(f"A figure drawn by the notebook {where}")}"'

    return re.sub(re.escape(PLACEHOLDER_ALT), describe, page)


def feedback_page(page: str) -> str:
    """The feedback page, readable: see the module's docstring."""
    page = headings_in_order(inline_colours(with_style(with_lang(page))))
    return described_images(scrollable_reachable(page))
