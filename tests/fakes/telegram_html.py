"""Telegram's ``parse_mode=HTML`` parser, as the fake Bot API server applies it to
``sendMessage``: the rules and error texts of TDLib's ``parse_html`` (``MessageEntity.cpp``),
which the Bot API server reports as ``Bad Request: can't parse entities: <reason>``.

What Telegram does, and so this parser: tags ``b strong i em u ins s strike del tg-spoiler
span(class="tg-spoiler") a(href) code(class="language-…") pre blockquote(expandable)
tg-emoji(emoji-id)``, case-insensitive, properly nested; ``&lt; &gt; &amp; &quot;`` and numeric
``&#NNN; &#xHH;`` references (the ``;`` is optional). A ``<`` that does not start a supported
tag is an error ("Unsupported start tag \"\"" for ``a < b``); ``>`` and a bare ``&`` (or an
unknown entity such as ``&nbsp;``) are kept as they are. Byte offsets count UTF-8 bytes; entity
offsets and lengths count UTF-16 code units.

``strict_ampersand=True`` is *not* Telegram: it refuses a bare ``&`` ("Character entity
expected at byte offset N"), to catch a sender that forgot to escape one (Telegram would keep
``AT&T`` but silently decode ``&lt`` in ``a&lt=b``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_TAGS = frozenset({*_SIMPLE, "a", "tg-emoji", "pre", "code", "blockquote"})
_NAMED = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
_SPACE = b" \t\r\n\v\0"  # TDLib's is_space, the terminating NUL included
_ALNUM = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_HEX = b"0123456789abcdefABCDEF"


class EntityParseError(ValueError):
    """Telegram's reason (the text after ``can't parse entities: ``)."""


@dataclass(frozen=True)
class Entity:
    """A ``MessageEntity`` as the Bot API returns it (offset, length in UTF-16 code units)."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_json(self) -> dict[str, object]:
        """The Bot API object (optional fields only when set)."""
        extra = {
            "url": self.url,
            "language": self.language,
            "custom_emoji_id": self.custom_emoji_id,
        }
        base: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        return base | {k: v for k, v in extra.items() if v is not None}


def utf16_length(text: str) -> int:
    """The length Telegram measures: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(data: bytes, pos: int) -> tuple[int, int]:
    """TDLib's decode_html_entity at ``data[pos] == '&'``: (code point or 0, position after)."""
    end = pos + 1
    code = 0
    if data[end] == ord("#"):
        end += 1
        if data[end] == ord("x"):
            end += 1
            while data[end] in _HEX:
                code = code * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while 0x30 <= data[end] <= 0x39:
                code = code * 10 + data[end] - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while data[end] in _ALNUM[:52]:
            end += 1
        named = _NAMED.get(data[pos + 1 : end])
        if named is None:
            return 0, pos
        code = ord(named)
    return code, end + 1 if data[end] == ord(";") else end


def _append(out: bytearray, code: int) -> int:
    """Append code point ``code`` as UTF-8 (surrogates too, refused at the end); UTF-16 size."""
    out += chr(code).encode("utf-8", "surrogatepass")
    return 2 if code > 0xFFFF else 1


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int


def parse_html(text: str, *, strict_ampersand: bool = False) -> tuple[str, list[Entity]]:
    """Parse ``text`` like Telegram: (plain text, entities sorted by offset); or raise
    :class:`EntityParseError` with Telegram's reason."""
    data = text.encode("utf-8", "surrogatepass") + b"\0"
    size = len(data) - 1
    out = bytearray()
    utf16 = 0
    stack: list[_Open] = []
    entities: list[Entity] = []
    i = 0
    while i < size:
        c = data[i]
        if c == ord("&"):
            code, after = _decode_entity(data, i)
            if code:
                utf16 += _append(out, code)
                i = after
                continue
            if strict_ampersand:
                raise EntityParseError(f"Character entity expected at byte offset {i}")
        if c != ord("<"):
            if c & 0xC0 != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue
        begin = i
        i += 1
        if data[i] != ord("/"):
            i = _start_tag(data, begin, i, stack, utf16)
        else:
            i = _end_tag(data, begin, i, stack, entities, out, utf16)
        i += 1  # past '>'
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    try:
        plain = out.decode("utf-8")
    except UnicodeDecodeError:
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None
    entities = [replace(e, language=None) if e.type == "code" else e for e in entities]
    entities.sort(key=lambda e: (e.offset, -e.length))
    return plain, entities


def _start_tag(data: bytes, begin: int, i: int, stack: list[_Open], utf16: int) -> int:
    while data[i] not in _SPACE and data[i] != ord(">"):
        i += 1
    if data[i] == 0:
        raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
    tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
    if tag not in _TAGS:
        raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
    argument = ""
    while data[i] != ord(">"):
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] == ord(">"):
            break
        name_begin = i
        while data[i] not in _SPACE and data[i] not in b"=>/'\"":
            i += 1
        name = data[name_begin:i].decode("utf-8", "replace")
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
            )
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] != ord("="):  # an attribute without a value: only <blockquote expandable>
            if data[i] == 0:
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        i += 1
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] == 0:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        value, i = _attribute_value(data, i)
        if data[i] == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        if (tag, name) in (("a", "href"), ("tg-emoji", "emoji-id")):
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[9:]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[3:]
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
    if tag == "span" and argument != "spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    stack.append(_Open(tag, argument, utf16))
    return i


def _attribute_value(data: bytes, i: int) -> tuple[str, int]:
    """A name token (lower-cased) or a quoted string (references decoded); position after."""
    if data[i] not in b"'\"":
        start = i
        while data[i] in _ALNUM or data[i] in b".-":
            i += 1
        if data[i] not in _SPACE and data[i] != ord(">"):
            raise EntityParseError(f"Unexpected end of name token at byte offset {start}")
        return data[start:i].decode("ascii").lower(), i
    quote = data[i]
    i += 1
    value = bytearray()
    while data[i] != quote and data[i] != 0:
        if data[i] == ord("&"):
            code, after = _decode_entity(data, i)
            if code:
                _append(value, code)
                i = after
                continue
        value.append(data[i])
        i += 1
    if data[i] == quote:
        i += 1
    return value.decode("utf-8", "replace"), i


def _end_tag(
    data: bytes,
    begin: int,
    i: int,
    stack: list[_Open],
    entities: list[Entity],
    out: bytearray,
    utf16: int,
) -> int:
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
    while data[i] not in _SPACE and data[i] != ord(">"):
        i += 1
    name = data[begin + 2 : i].decode("utf-8", "replace").lower()
    while data[i] != 0 and data[i] in _SPACE:
        i += 1
    if data[i] != ord(">"):
        raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
    opened = stack.pop()
    if name and name != opened.tag:
        raise EntityParseError(
            f'Unmatched end tag at byte offset {begin}, expected "</{opened.tag}>", '
            f'found "</{name}>"'
        )
    if utf16 > opened.offset:
        _close(opened, utf16 - opened.offset, entities, out)
    return i


def _close(opened: _Open, length: int, entities: list[Entity], out: bytearray) -> None:
    tag, argument, offset = opened.tag, opened.argument, opened.offset
    last = entities[-1] if entities else None
    same_span = last is not None and (last.offset, last.length) == (offset, length)
    if tag in _SIMPLE:
        entities.append(Entity(_SIMPLE[tag], offset, length))
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append(Entity(kind, offset, length))
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0 or int(argument) >= 2**63:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(Entity("custom_emoji", offset, length, custom_emoji_id=argument))
    elif tag == "a":
        url = argument or _tail(out, length)
        if url:
            url = url if "://" in url or url.startswith("tg:") else "http://" + url
            entities.append(Entity("text_link", offset, length, url=url))
    elif tag == "pre":
        if same_span and last is not None and last.type == "code" and last.language:
            entities[-1] = Entity("pre", offset, length, language=last.language)
        else:
            entities.append(Entity("pre", offset, length))
    elif same_span and last is not None and last.type == "pre" and argument:  # code in pre
        entities[-1] = Entity("pre", offset, length, language=argument)
    else:  # code: the language stays only if a <pre> around it claims it
        entities.append(Entity("code", offset, length, language=argument or None))


def _tail(out: bytearray, utf16: int) -> str:
    """The last ``utf16`` code units of the text so far (an ``<a>`` without ``href``)."""
    units = out.decode("utf-8", "surrogatepass").encode("utf-16-le", "surrogatepass")
    return units[len(units) - 2 * utf16 :].decode("utf-16-le", "surrogatepass")
