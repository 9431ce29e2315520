"""`speech`: the narration spoken by an offline voice (eSpeak NG, installed with batchtui), as
a 16-bit mono WAV. It reads the text an earlier stage wrote (`script`), else the item's own
narration; the item's `voice` and `wpm` variables choose the voice and its speed."""

from __future__ import annotations

import wave
from pathlib import Path

import anyio

from ..core.models import BatchConfig
from .base import Context, Generator, GeneratorError, Job
from .inputs import TEXT_TYPES, find_input, read_text_input, var_number, var_text
from .script import narration_text

VOICE_VAR, SPEED_VAR = "voice", "wpm"
DEFAULT_VOICE = "en-us"
DEFAULT_WPM = 165


def narration_of(job: Job) -> str:
    """What a stage speaks or captions: the text an earlier stage wrote, else the item's
    narration."""
    source = find_input(job, TEXT_TYPES)
    text = read_text_input(source) if source is not None else narration_text(job)
    return " ".join(text.split())


def voice_of(job: Job) -> tuple[str, int]:
    """The voice and speed (words a minute) the item is spoken with."""
    from .voice.espeak import MAX_WPM, MIN_WPM

    voice = var_text(job, VOICE_VAR, DEFAULT_VOICE)
    wpm = int(var_number(job, SPEED_VAR, DEFAULT_WPM, MIN_WPM, MAX_WPM))
    return voice, wpm


def write_wav(path: Path, samples: bytes, rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)


class SpeechGenerator(Generator):
    """Speaks the narration offline (eSpeak NG) into a WAV file."""

    name = "speech"
    description = "the narration spoken by an offline voice ({voice}, {wpm}) as a .wav"

    def check(self, config: BatchConfig) -> list[str]:
        if config.output_ext != "wav":
            return [f"speech writes audio: its output type must be wav, not '{config.output_ext}'"]
        return []

    async def generate(self, job: Job, ctx: Context) -> None:
        from .voice.espeak import VoiceError, speak

        text = narration_of(job)
        if not text:
            raise GeneratorError("nothing to say: the narration is empty")
        voice, wpm = voice_of(job)
        try:
            speech = await anyio.to_thread.run_sync(speak, text, voice, wpm)
        except VoiceError as exc:
            raise GeneratorError(str(exc)) from None
        if not speech.samples:
            raise GeneratorError(f"the voice '{voice}' said nothing")
        await anyio.to_thread.run_sync(write_wav, job.output, speech.samples, speech.rate)
        ctx.log(f"speech: {voice} at {wpm} wpm, {speech.seconds:.1f} s, {len(speech.words)} words")
        ctx.progress(1.0)
