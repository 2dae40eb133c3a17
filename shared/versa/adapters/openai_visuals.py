"""The OpenAI visual writer: the Images API on OpenAI or any OpenAI-compatible server (the `openai` package).

Mode `scene` calls `images.generate`; mode `edit` calls `images.edit` with the request's source image (the
brand's product photo). Size (`WIDTHxHEIGHT`), quality and `n=1` are sent; nothing asks for a response
format, since GPT image models always answer base64 (`b64_json`) and refuse the parameter. The answer is
decoded and checked to be a PNG, JPEG or WebP that Pillow can read; anything else is `bad_image`. A
server that answers with a `url` instead is refused (`WriterUnavailable`): Versa never fetches an
address a server names, so the only image it stores is the one in the answer.

Before an image is paid for, the prompt goes to the moderations endpoint (`moderation="on"`, the
default): a flagged prompt fails with `moderation` and no image call is made. A server without that
endpoint (404) stops the writer with `WriterUnavailable` naming VERSA_VISUAL_MODERATION=off, which skips
the call for such servers; moderation that cannot be reached now (429, 5xx, timeouts, after the
retries) fails that request with its reason, never paints unmoderated.

Calls have a bounded timeout; 429, 5xx, timeouts and dropped connections are retried with exponential
backoff up to `attempts` in all, waiting what Retry-After (or retry-after-ms) asks when it is at most
MAX_RETRY_AFTER seconds, and giving up at once (rate_limited) when the server asks for longer. A model
the server does not know (404, `model_not_found`, or a 400 about the `model` parameter) and a refused
key fail every request (`WriterUnavailable`, the model named); the model's refusal of a prompt (400
`moderation_blocked` or `content_policy_violation`) fails that request with `content_policy`.
"""

from __future__ import annotations

import base64
import binascii
import io
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import openai
from PIL import Image, UnidentifiedImageError

from versa.adapters.openai_writer import _code, _message
from versa.ports import PaintFailed, Painting, PaintRequest, VisualWriter, WriterUnavailable

if TYPE_CHECKING:
    from openai.types import ImagesResponse, ModerationCreateResponse

    from versa.settings import Settings

MAX_RETRY_AFTER = 20.0
"""Longest server-asked wait honoured between attempts, in seconds; a longer one ends the request."""

REFUSAL_CODES = frozenset({"moderation_blocked", "content_policy_violation"})
"""Error codes with which an Images API model refuses a prompt (GPT image models; DALL·E's)."""

MODES = ("scene", "edit")
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
"""What an answer may be, by Pillow's format name (the core checks dimensions and content)."""


class OpenAIVisualWriter(VisualWriter):
    """VisualWriter on the Images API (see the module doc). `client` is an `openai.OpenAI`; without one it
    is built from `api_key`, `base_url` and `timeout`, with the client's own retries off (this writer
    retries). `moderation` False skips the moderations call. `sleep` waits between attempts."""

    def __init__(
        self,
        *,
        model: str | None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 120.0,
        attempts: int = 3,
        moderation: bool = True,
        backoff: float = 1.0,
        client: openai.OpenAI | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not model:
            raise WriterUnavailable(
                "VERSA_VISUAL_MODEL is not set: name the Images API model that paints visual slots (Versa has"
                " no built-in model)"
            )
        if client is None and not api_key and not base_url:
            raise WriterUnavailable("OPENAI_API_KEY is not set (or set OPENAI_BASE_URL for a compatible server)")
        self.model = model
        self.base_url = base_url
        self.attempts = max(1, attempts)
        self.moderation = moderation
        self.backoff = backoff
        self._sleep = sleep
        self.client = client or openai.OpenAI(
            api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=0
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, api_key: str | None = None) -> OpenAIVisualWriter:
        """The writer the settings name (`api_key`, when given, instead of OPENAI_API_KEY)."""
        key = api_key or (settings.openai_api_key.get_secret_value() if settings.openai_api_key else None)
        return cls(
            model=settings.visual_model, api_key=key, base_url=settings.openai_base_url,
            timeout=settings.visual_timeout, attempts=settings.visual_attempts,
            moderation=settings.visual_moderation == "on",
        )

    def describe(self) -> str:
        return f"image model {self.model!r} at {self.base_url or 'OpenAI'}"

    def check(self) -> None:
        """Ask the server whether it knows the model (`GET /models/{model}`): WriterUnavailable for a 404
        or a refused key; a server without that route, or unreachable now, is not judged here."""
        try:
            self.client.models.retrieve(self.model or "")
        except openai.NotFoundError as exc:
            raise WriterUnavailable(f"{self.describe()}: the server does not know this model ({_message(exc)})") from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise WriterUnavailable(f"{self.describe()}: the server refused the API key: {_message(exc)}") from exc
        except openai.OpenAIError:
            return

    # ----------------------------------------------------------------------------------- painting

    def paint(self, request: PaintRequest) -> Painting:
        if request.mode not in MODES:
            raise PaintFailed("bad_request", f"mode {request.mode!r} is not one of {', '.join(MODES)}")
        if request.mode == "edit" and not request.source:
            raise PaintFailed("bad_request", "mode 'edit' needs the source image (the product photo); none was given")
        notes: list[str] = []
        if self.moderation:
            self._moderate(request.prompt, notes)
        kwargs: dict[str, Any] = {
            "model": self.model, "prompt": request.prompt, "n": 1,
            "size": f"{request.size[0]}x{request.size[1]}", "quality": request.quality,
        }
        if request.mode == "edit":
            assert request.source is not None
            kwargs["image"] = _upload(request.source)
            answer = self._call(lambda: cast(Any, self.client.images).edit(**kwargs), notes, what="edit")
        else:
            answer = self._call(lambda: cast(Any, self.client.images).generate(**kwargs), notes, what="generate")
        return self._painting(cast("ImagesResponse", answer), request, notes)

    def _moderate(self, prompt: str, notes: list[str]) -> None:
        """Fail the request (`moderation`) when the server flags the prompt; no image is paid for."""
        try:
            answer = cast("ModerationCreateResponse",
                          self._call(lambda: self.client.moderations.create(input=prompt), notes, what="moderation"))
        except PaintFailed as exc:
            raise PaintFailed(exc.reason, f"moderation could not be asked, so no image was paid for: {exc.detail}") from exc
        flagged = [result for result in answer.results if result.flagged]
        if flagged:
            categories = sorted(
                {name for result in flagged for name, hit in result.categories.model_dump(by_alias=True).items() if hit}
            )
            raise PaintFailed("moderation", "the prompt was flagged by moderation" +
                              (f" ({', '.join(categories)})" if categories else "") + "; no image was asked for")
        notes.append(f"prompt passed moderation ({answer.model})")

    def _call(self, make: Callable[[], Any], notes: list[str], *, what: str) -> Any:
        """One API call, retried on 429, 5xx, timeouts and dropped connections up to `attempts`."""
        for attempt in range(1, self.attempts + 1):
            try:
                return make()
            except openai.NotFoundError as exc:
                if what == "moderation":
                    raise WriterUnavailable(
                        f"{self.describe()}: the server has no moderations endpoint ({_message(exc)}); set"
                        " VERSA_VISUAL_MODERATION=off to paint without it (review still applies)"
                    ) from exc
                raise WriterUnavailable(
                    f"{self.describe()}: not found (an unknown or retired model, or a wrong base URL): {_message(exc)}"
                ) from exc
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise WriterUnavailable(f"{self.describe()}: the server refused the API key: {_message(exc)}") from exc
            except openai.BadRequestError as exc:
                raise self._bad_request(exc) from exc
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                reason = _retry_reason(exc)
                asked = _retry_after(exc)
                if asked is not None and asked > MAX_RETRY_AFTER:
                    raise PaintFailed(reason, f"{_message(exc)} (the server asks to wait {asked:g}s; not waited)") from exc
                if attempt == self.attempts:
                    raise PaintFailed(reason, f"{what}: {_message(exc)} (after {attempt} attempt(s))") from exc
                wait = asked if asked is not None else min(self.backoff * 2.0 ** (attempt - 1), MAX_RETRY_AFTER)
                notes.append(f"{what}: {reason} on attempt {attempt}, retried after {wait:.2f}s")
                self._sleep(wait)
            except openai.APIStatusError as exc:
                if exc.status_code < 500 or attempt == self.attempts:
                    raise PaintFailed("server_error", f"{what}: HTTP {exc.status_code}: {_message(exc)}") from exc
                wait = min(self.backoff * 2.0 ** (attempt - 1), MAX_RETRY_AFTER)
                notes.append(f"{what}: HTTP {exc.status_code} on attempt {attempt}, retried after {wait:.2f}s")
                self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _bad_request(self, exc: openai.BadRequestError) -> Exception:
        """A 400: the model's refusal of the prompt, a model the server does not know, or a bad request."""
        code = _code(exc)
        if code in REFUSAL_CODES:
            return PaintFailed("content_policy", f"the model refused the prompt ({code}): {_message(exc)}")
        if code == "model_not_found" or getattr(exc, "param", None) == "model":
            return WriterUnavailable(f"{self.describe()}: the server does not offer this model: {_message(exc)}")
        return PaintFailed("bad_request", f"HTTP 400{f' ({code})' if code else ''}: {_message(exc)}")

    def _painting(self, answer: ImagesResponse, request: PaintRequest, notes: list[str]) -> Painting:
        data = answer.data or []
        if not data:
            raise PaintFailed("bad_image", "the answer holds no image")
        first = data[0]
        if not first.b64_json:
            if first.url:
                raise WriterUnavailable(
                    f"{self.describe()}: the server answered an image URL, not the image (b64_json); Versa does"
                    " not fetch addresses a server names: use a server or model that answers b64_json"
                )
            raise PaintFailed("bad_image", "the answer's image has neither b64_json nor url")
        image, size = _decode(first.b64_json)
        if first.revised_prompt:
            notes.append(f"revised prompt: {first.revised_prompt[:300]}")
        if answer.usage is not None:
            notes.append(f"usage: {answer.usage.input_tokens} input, {answer.usage.output_tokens} output tokens")
        return Painting(
            image=image, generated=True, model=self.model, size=size,
            quality=answer.quality or request.quality, notes=tuple(notes),
        )


def _decode(b64: str) -> tuple[bytes, tuple[int, int]]:
    """The image bytes of a base64 answer and their pixel size; PaintFailed('bad_image') for anything that
    is not a whole PNG, JPEG or WebP."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PaintFailed("bad_image", f"b64_json is not base64 ({exc})") from exc
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            kind, size = probe.format, probe.size
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image.load()  # verify() checks structure only; a truncated body fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PaintFailed("bad_image", f"the answer does not decode as an image ({type(exc).__name__}: {exc})") from exc
    if kind not in FORMATS:
        raise PaintFailed("bad_image", f"the answer is {kind}, not one of PNG, JPEG, WEBP")
    return raw, (int(size[0]), int(size[1]))


def _upload(source: bytes) -> tuple[str, bytes, str]:
    """The source image as a multipart file (name, bytes, media type), typed by its signature."""
    if source.startswith(b"\x89PNG\r\n\x1a\n"):
        return "product.png", source, "image/png"
    if source.startswith(b"\xff\xd8\xff"):
        return "product.jpg", source, "image/jpeg"
    if source[:4] == b"RIFF" and source[8:12] == b"WEBP":
        return "product.webp", source, "image/webp"
    raise PaintFailed("bad_request", "the source image is not a PNG, JPEG or WebP")


def _retry_after(exc: Exception) -> float | None:
    """Seconds the server asks to wait (retry-after-ms, else retry-after in seconds), if it says."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


def _retry_reason(exc: Exception) -> str:
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "timeout"  # PaintFailed's reasons: a dropped connection is retried and reported like a timeout
    return "server_error"


__all__ = ["MAX_RETRY_AFTER", "REFUSAL_CODES", "OpenAIVisualWriter"]
