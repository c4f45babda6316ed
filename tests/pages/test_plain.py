"""User and input text shown in Streamlit markdown stays text: no link, image, emphasis, colour or autolink."""

import re

from pages.common import plain


def _rendered(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def test_markdown_from_outside_is_escaped_and_reads_as_written():
    hostile = ['![u](http://x/y.png) [Sign in again](https:evil.example)', ":red[URGENT] :material/warning:",
               "**bold** _it_ `code` $x$ <b>html</b> # heading | table ~strike~", "mail dr@evil.example, www.evil.example", "see https://evil.example/login"]
    for text in hostile:
        escaped = plain(text)
        assert _rendered(escaped) == text
        assert not re.search(r"(?<!\\)[\[\]*_`$<>#|~:@]", escaped), escaped  # every special is escaped
        # No bare address for GitHub-flavoured markdown to link: each is broken by an invisible joiner.
        assert not re.search(r"(?i)www\.|://|\w\\?@", escaped), escaped


def test_newlines_become_spaces_and_plain_words_are_unchanged():
    assert plain("two\nlines\r") == "two lines "
    assert plain("cxr normal 1427, 0.84 (left) – ok.") == "cxr normal 1427, 0.84 (left) – ok."
