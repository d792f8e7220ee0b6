"""Reference BERT tokenizer for the tests, written from Google's published algorithm (google-research/bert,
tokenization.py: BasicTokenizer followed by WordpieceTokenizer) with the three switches Hugging Face's
tokenizer_config.json adds (do_lower_case, strip_accents, tokenize_chinese_chars). Standard library only.

Input (JSON on standard input): {"vocabulary": [token, ...], "options": {"do_lower_case": bool, "strip_accents":
null|bool, "tokenize_chinese_chars": bool, "max_input_chars_per_word": int, "unk_token": str}, "texts": [str, ...]}.
Output (JSON on standard output): {"tokens": [[token, ...], ...], "unicode": unicodedata.unidata_version}.
Run with Debian's /usr/bin/python3; bert_forward.py imports tokenize() from it.
"""
import json
import sys
import unicodedata


def is_whitespace(char):
    # \t, \n and \r are control characters in Unicode but whitespace to BERT.
    if char in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(char) == "Zs"


def is_control(char):
    if char in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(char).startswith("C")


def is_punctuation(char):
    code = ord(char)
    # Every non-letter, non-digit ASCII character counts as punctuation ($, ^, `, + included).
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_chinese_char(code):
    # The CJK Unified Ideographs blocks (and compatibility ideographs); not Hiragana, Katakana or Hangul.
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


def whitespace_tokenize(text):
    text = text.strip()
    return text.split() if text else []


def clean_text(text):
    out = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or is_control(char):
            continue
        out.append(" " if is_whitespace(char) else char)
    return "".join(out)


def space_chinese_chars(text):
    return "".join(f" {char} " if is_chinese_char(ord(char)) else char for char in text)


def strip_accents(text):
    return "".join(char for char in unicodedata.normalize("NFD", text) if unicodedata.category(char) != "Mn")


def split_on_punctuation(token):
    pieces, current = [], []
    for char in token:
        if is_punctuation(char):
            if current:
                pieces.append("".join(current))
                current = []
            pieces.append(char)
        else:
            current.append(char)
    if current:
        pieces.append("".join(current))
    return pieces


def basic_tokenize(text, o):
    text = clean_text(text)
    if o["tokenize_chinese_chars"]:
        text = space_chinese_chars(text)
    split = []
    for token in whitespace_tokenize(text):
        if o["do_lower_case"]:
            token = token.lower()
            if o["strip_accents"] is not False:
                token = strip_accents(token)
        elif o["strip_accents"]:
            token = strip_accents(token)
        split.extend(split_on_punctuation(token))
    return whitespace_tokenize(" ".join(split))


def wordpiece(token, vocabulary, o):
    chars = list(token)
    if len(chars) > o["max_input_chars_per_word"]:
        return [o["unk_token"]]
    pieces, start = [], 0
    while start < len(chars):
        end, found = len(chars), None
        while start < end:
            piece = "".join(chars[start:end])
            if start > 0:
                piece = "##" + piece
            if piece in vocabulary:
                found = piece
                break
            end -= 1
        if found is None:
            return [o["unk_token"]]
        pieces.append(found)
        start = end
    return pieces


def tokenize(text, vocabulary, options):
    """BERT's FullTokenizer.tokenize: basic tokenisation, then WordPiece on every word."""
    o = {"do_lower_case": True, "strip_accents": None, "tokenize_chinese_chars": True, "max_input_chars_per_word": 100, "unk_token": "[UNK]"}
    o.update(options)
    return [piece for word in basic_tokenize(text, o) for piece in wordpiece(word, vocabulary, o)]


if __name__ == "__main__":
    data = json.load(sys.stdin)
    vocabulary = set(data["vocabulary"])
    tokens = [tokenize(text, vocabulary, data.get("options", {})) for text in data["texts"]]
    json.dump({"tokens": tokens, "unicode": unicodedata.unidata_version}, sys.stdout, ensure_ascii=True)
