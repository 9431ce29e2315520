"""eSpeak NG through ctypes: text in, 16-bit mono samples and each word's time out.

The library comes with the `espeakng-loader` wheel (the .so and its voice data), so speech
works offline on a fresh install with no model to download. It is loaded on first use only
(importing batchtui never loads it) and driven in its synchronous mode: `espeak_Synth` returns
once every sample went through our callback, along with the word events (where each word
starts in the audio). The library keeps global state and is not thread-safe: one lock
around every use, so two items speaking at once in one process take turns.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

from .words import Word

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_PARAM_RATE = 1
_EE_OK = 0

MIN_WPM, MAX_WPM = 80, 450
"""The speeds eSpeak takes (words per minute)."""


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (not c_char_p: a list of NUL-ended names)
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class VoiceError(Exception):
    """Speech could not be made (no library, an unknown voice), said in one line."""


@dataclass(frozen=True)
class Speech:
    """Spoken text: 16-bit little-endian mono samples at `rate` Hz, and its words' times."""

    samples: bytes
    rate: int
    words: tuple[Word, ...]

    @property
    def seconds(self) -> float:
        return len(self.samples) / 2 / self.rate


class _Engine:
    """The loaded library, initialised once per process."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:  # (a dependency: only a broken install lacks it)
            raise VoiceError(f"espeakng-loader is not installed ({exc})") from None
        try:
            lib = ctypes.CDLL(str(espeakng_loader.get_library_path()))
        except OSError as exc:
            raise VoiceError(f"the eSpeak NG library cannot be loaded: {exc}") from None
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        data = str(espeakng_loader.get_data_path()).encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if rate <= 0:
            raise VoiceError(f"eSpeak NG did not start (its data: {data.decode()})")
        self.lib = lib
        self.rate = rate
        self._chunks: list[bytes] = []
        self._events: list[tuple[int, int, int]] = []
        self._callback = _CALLBACK(self._on_audio)  # kept: the library holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self.voices = self._list_voices()

    def _list_voices(self) -> dict[str, str]:
        """Every name a voice answers to (lower case) → the name eSpeak selects it by: its
        name, its file's identifier (`gmw/en-US`, and `en-us` after the slash) and each of
        its languages."""
        names: dict[str, str] = {}
        found = self.lib.espeak_ListVoices(None)
        index = 0
        while found[index]:
            voice = found[index].contents
            name = (voice.name or b"").decode(errors="replace")
            identifier = (voice.identifier or b"").decode(errors="replace")
            for alias in (name, identifier, identifier.rsplit("/", 1)[-1], *_languages(voice)):
                if alias:
                    names.setdefault(alias.lower(), name)
            index += 1
        return names

    def _on_audio(self, wav: ctypes._Pointer, count: int, events: ctypes._Pointer) -> int:
        if count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                self._events.append((event.text_position, event.length, event.audio_position))
            index += 1
        return 0  # go on

    def speak(self, text: str, voice: str, wpm: int) -> Speech:
        name = self.voices.get(voice.strip().lower())
        if name is None or self.lib.espeak_SetVoiceByName(name.encode()) != _EE_OK:
            raise VoiceError(
                f"no eSpeak voice named '{voice}' (try en-us, en-gb, fr, de, es, ja; "
                f"{len(self.voices)} names known)"
            )
        self.lib.espeak_SetParameter(_PARAM_RATE, wpm, 0)
        self._chunks, self._events = [], []
        encoded = text.encode("utf-8") + b"\0"
        buffer = ctypes.create_string_buffer(encoded)
        status = self.lib.espeak_Synth(
            buffer, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        if status != _EE_OK:
            raise VoiceError(f"eSpeak NG could not speak the text (error {status})")
        samples = b"".join(self._chunks)
        return Speech(samples, self.rate, _words(text, self._events, len(samples) / 2 / self.rate))


def _languages(voice: _Voice) -> list[str]:
    """A voice's languages: a priority byte then a NUL-ended name, repeated, ended by a 0."""
    raw = voice.languages
    found: list[str] = []
    if not raw:
        return found
    offset = 0
    while ctypes.c_ubyte.from_address(raw + offset).value != 0 and len(found) < 16:
        name = ctypes.string_at(raw + offset + 1)
        found.append(name.decode(errors="replace"))
        offset += len(name) + 2
    return found


def _words(text: str, events: list[tuple[int, int, int]], total: float) -> tuple[Word, ...]:
    """Each word event as a word of `text` (its positions count characters from 1) with its
    start, ending where the next one starts (the last: at the end of the audio). Events of
    one word (eSpeak says each character of a CJK word) are one word."""
    merged: list[tuple[int, int, int]] = []
    for event in events:
        if merged and merged[-1][0] == event[0]:
            continue
        merged.append(event)
    words = []
    for index, (position, _length, at_ms) in enumerate(merged):
        start = at_ms / 1000.0
        following = merged[index + 1] if index + 1 < len(merged) else None
        end = following[2] / 1000.0 if following else total
        # The word with what follows it up to the next one (its punctuation: "blue?").
        stop = following[0] - 1 if following and following[0] > position else len(text)
        begin = max(0, position - 1)
        piece = text[begin:stop].strip()
        if piece:
            spaced = begin == 0 or text[begin - 1].isspace()
            words.append(Word(piece, start, max(start, end), spaced))
    return tuple(words)


_engine: _Engine | None = None
_lock = threading.Lock()


def speak(text: str, voice: str = "en-us", wpm: int = 165) -> Speech:
    """`text` spoken by the eSpeak voice `voice` at `wpm` words per minute (VoiceError in one
    line otherwise). The same text, voice and speed give the same words at the same times
    (to a few milliseconds): a caption stage asks again for the times alone."""
    global _engine
    if not MIN_WPM <= wpm <= MAX_WPM:
        raise VoiceError(f"speed {wpm} is not between {MIN_WPM} and {MAX_WPM} words a minute")
    with _lock:
        if _engine is None:
            _engine = _Engine()
        return _engine.speak(text, voice, wpm)
