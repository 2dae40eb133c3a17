"""The OpenAI copy writer: Chat Completions on OpenAI or any OpenAI-compatible server (the `openai` package).

It asks for `{"candidates": [...]}` with a strict JSON schema (`response_format` `json_schema`) and parses
the answer into a pydantic model. A server that refuses strict schemas (a 400 on `response_format`) is
asked again in JSON mode (`json_object`), and a model that refuses sampling parameters (`temperature`)
again without them; each fallback is remembered for the writer's life and noted on the draft. Calls
have a bounded timeout; 429, 5xx, timeouts and dropped connections are retried with exponential
backoff (honouring a short Retry-After) up to `attempts` in all. A refusal, an answer cut by the token
limit (`finish_reason: length`), a content filter or an answer that is not the JSON asked for fail
that request (`WriteFailed`); no model set, a model the server does not know (404) or a refused key
fail every request (`WriterUnavailable`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import openai
from pydantic import BaseModel, ConfigDict, ValidationError

from versa.ports import CopyWriter, Draft, Rejection, WriteFailed, WriteRequest, WriterUnavailable

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

    from versa.settings import Settings

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"candidates": {"type": "array", "items": {"type": "string"}}},
    "required": ["candidates"],
    "additionalProperties": False,
}
"""The answer's JSON schema (strict structured outputs: every property required, nothing else)."""

MAX_CANDIDATES = 8
MAX_RETRY_AFTER = 8.0
"""Longest server-asked wait honoured between attempts, in seconds."""

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class Candidates(BaseModel):
    """The answer, parsed."""

    model_config = ConfigDict(extra="forbid")

    candidates: list[str]


class OpenAIWriter(CopyWriter):
    """CopyWriter on Chat Completions (see the module doc). `client` is an `openai.OpenAI`; without
    one it is built from `api_key`, `base_url` and `timeout`, with the client's own retries off (this
    writer retries). `sleep` waits between attempts (tests pass a recorder)."""

    def __init__(
        self,
        *,
        model: str | None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        attempts: int = 3,
        backoff: float = 0.5,
        client: openai.OpenAI | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not model:
            raise WriterUnavailable(
                "VERSA_COPY_MODEL is not set: name the model that writes copy (Versa has no built-in model)"
            )
        if client is None and not api_key and not base_url:
            raise WriterUnavailable("OPENAI_API_KEY is not set (or set OPENAI_BASE_URL for a compatible server)")
        self.model = model
        self.base_url = base_url
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._sleep = sleep
        self.client = client or openai.OpenAI(
            api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=0
        )
        self.json_mode = False
        """True once the server refused a strict schema: JSON mode from then on."""
        self.sampling = True
        """False once the model refused sampling parameters: none sent from then on."""

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIWriter:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return cls(
            model=settings.copy_model, api_key=key, base_url=settings.openai_base_url,
            timeout=settings.copy_timeout, attempts=settings.copy_attempts,
        )

    def describe(self) -> str:
        return f"model {self.model!r} at {self.base_url or 'OpenAI'}"

    def check(self) -> None:
        """Ask the server whether it knows the model (`GET /models/{model}`), so a start-up can say so
        at once: WriterUnavailable for a 404 or a refused key; a server without that route, or one that
        cannot be reached now, is not judged here (the first write will be)."""
        try:
            self.client.models.retrieve(self.model or "")
        except openai.NotFoundError as exc:
            raise WriterUnavailable(f"{self.describe()}: the server does not know this model ({_message(exc)})") from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise WriterUnavailable(f"{self.describe()}: the server refused the API key: {_message(exc)}") from exc
        except openai.OpenAIError:
            return

    # ------------------------------------------------------------------------------------ writing

    def write(self, request: WriteRequest) -> Draft:
        messages = [{"role": "system", "content": request.system}, {"role": "user", "content": request.prompt}]
        notes: list[str] = []
        for _ in range(3):  # at most two fallbacks: JSON mode, no sampling parameters
            kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "response_format": self._format()}
            sampled = self.sampling and request.temperature is not None
            if sampled:
                kwargs["temperature"] = request.temperature
            try:
                completion = self._call(kwargs, notes)
            except openai.BadRequestError as exc:
                if not self._fall_back(exc, sampled, notes):
                    raise WriteFailed("bad_request", _message(exc)) from exc
                continue
            return self._draft(completion, request, notes)
        raise WriteFailed("bad_request", "the server refused every request shape tried: " + "; ".join(notes))

    def _format(self) -> dict[str, Any]:
        if self.json_mode:
            return {"type": "json_object"}
        return {"type": "json_schema", "json_schema": {"name": "copy_candidates", "strict": True, "schema": SCHEMA}}

    def _fall_back(self, exc: openai.BadRequestError, sampled: bool, notes: list[str]) -> bool:
        """Change the request shape for a 400 that says what it refuses; False when nothing is left to change."""
        if _code(exc) == "model_not_found":
            raise WriterUnavailable(f"{self.describe()}: the server does not know this model ({_message(exc)})") from exc
        said = f"{getattr(exc, 'param', '') or ''} {_code(exc)} {_message(exc)}".lower()
        if sampled and "temperature" in said:
            self.sampling = False
            notes.append("the model refused sampling parameters: asked again without them")
            return True
        if not self.json_mode and ("response_format" in said or "schema" in said or "json" in said):
            self.json_mode = True
            notes.append("the server refused a strict JSON schema: asked again in JSON mode")
            return True
        if not self.json_mode:  # a vague 400 to the strict request: JSON mode is the common denominator
            self.json_mode = True
            notes.append(f"a 400 to the strict schema ({_message(exc)}): asked again in JSON mode")
            return True
        if sampled:
            self.sampling = False
            notes.append(f"a 400 in JSON mode ({_message(exc)}): asked again without sampling parameters")
            return True
        return False

    def _call(self, kwargs: dict[str, Any], notes: list[str]) -> ChatCompletion:
        """One completion, retried on 429, 5xx, timeouts and dropped connections up to `attempts`."""
        for attempt in range(1, self.attempts + 1):
            try:
                return cast("ChatCompletion", cast(Any, self.client.chat.completions).create(**kwargs))
            except openai.NotFoundError as exc:
                raise WriterUnavailable(
                    f"{self.describe()}: not found (an unknown model, or a wrong base URL): {_message(exc)}"
                ) from exc
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise WriterUnavailable(f"{self.describe()}: the server refused the API key: {_message(exc)}") from exc
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                reason = _retry_reason(exc)
                if attempt == self.attempts:
                    raise WriteFailed(reason, f"{_message(exc)} (after {attempt} attempt(s))") from exc
                wait = self._wait(exc, attempt)
                notes.append(f"{reason} on attempt {attempt}: retried after {wait:.2f}s")
                self._sleep(wait)
            except openai.BadRequestError:
                raise  # `write` changes the request shape, or gives up
            except openai.APIStatusError as exc:
                if exc.status_code < 500 or attempt == self.attempts:
                    raise WriteFailed("server_error", f"HTTP {exc.status_code}: {_message(exc)}") from exc
                wait = self._wait(exc, attempt)
                notes.append(f"HTTP {exc.status_code} on attempt {attempt}: retried after {wait:.2f}s")
                self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, exc: Exception, attempt: int) -> float:
        response = getattr(exc, "response", None)
        asked = response.headers.get("retry-after") if response is not None else None
        try:
            if asked is not None and 0 <= float(asked) <= MAX_RETRY_AFTER:
                return float(asked)
        except ValueError:
            pass
        return float(min(self.backoff * 2.0 ** (attempt - 1), MAX_RETRY_AFTER))

    def _draft(self, completion: ChatCompletion, request: WriteRequest, notes: list[str]) -> Draft:
        usage = completion.usage
        spent = {"prompt_tokens": usage.prompt_tokens if usage else 0,
                 "completion_tokens": usage.completion_tokens if usage else 0}
        if not completion.choices:
            raise WriteFailed("invalid_json", "the answer has no choices", **spent)
        choice = completion.choices[0]
        message = choice.message
        refusal = getattr(message, "refusal", None)
        if refusal:
            raise WriteFailed("refused", str(refusal)[:300], **spent)
        if choice.finish_reason == "length":
            raise WriteFailed("truncated", "the answer was cut at the token limit (finish_reason: length)", **spent)
        if choice.finish_reason == "content_filter":
            raise WriteFailed("content_filter", "the server's content filter withheld the answer", **spent)
        texts = _parse(message.content or "", **spent)
        candidates: list[str] = []
        dropped: list[Rejection] = []
        for text in texts:
            if not text.strip():
                dropped.append(Rejection(text, "empty", "the candidate is empty"))
            elif text.strip() in candidates:
                dropped.append(Rejection(text, "repeat", "repeats an earlier candidate"))
            else:
                candidates.append(text.strip())
        if not candidates:
            raise WriteFailed("invalid_json", "the answer holds no candidate", **spent)
        return Draft(
            candidates=tuple(candidates[:MAX_CANDIDATES]), generated=True, model=completion.model or self.model,
            rejections=tuple(dropped), notes=tuple(notes), **spent,
        )


def _parse(content: str, *, prompt_tokens: int, completion_tokens: int) -> list[str]:
    """The candidates of an answer: the schema's object; in JSON mode also a fenced block, a bare list of
    strings or an object with one list of strings."""
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return Candidates.model_validate_json(text).candidates
    except ValidationError:
        pass
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else None
    if isinstance(data, list) and data and all(isinstance(v, str) for v in data):
        return list(data)
    shown = content[:120] + ("…" if len(content) > 120 else "")
    raise WriteFailed("invalid_json", f'not the JSON asked for ({{"candidates": [...]}}): {shown!r}',
                      prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
    return str(getattr(exc, "message", exc))[:300]


def _code(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    return str(code) if code else ""


def _retry_reason(exc: Exception) -> str:
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    return "server_error"


__all__ = ["SCHEMA", "Candidates", "OpenAIWriter"]
