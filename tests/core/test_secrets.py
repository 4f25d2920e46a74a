"""Secrets and private data never reach a log record, a repr, an error, stats or output.

A provider from a plugin stands in for a vendor SDK here: its "SDK" logs the way real
ones do (the secret in a URL path, URL-encoded, in an exception, in a header, on a
child logger created late, on a logger with no handler that falls back to stderr).
The real SDKs are exercised the same way in each provider's ``test_secrets.py``.
"""

from __future__ import annotations

import logging
import pprint
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from leak_watch import SOURCES, USER, LeakWatch, exercise, settle_source  # tests/support
from pydantic import Field, SecretStr, ValidationError
from rich.pretty import pretty_repr

from flagport import Flagport, FlagportError, InvalidContextError, hookimpl
from flagport._redact import protect, redact, release
from flagport.errors import FlagNotFoundError, GeneralError
from flagport.plugins import get_plugin_manager, register_plugin, unregister_plugin
from flagport.provider import FlagNames, Provider, ProviderOptions
from flagport.providers.migration.options import MigrationOptions
from flagport.results import ConfigResult, ExperimentResult, GateResult
from flagport.settings import load_settings

if TYPE_CHECKING:
    from flagport.user import User

CANARY = "tok-canary-Jf83kQzL1v/x"  # the "/" makes its URL-encoded form differ
HEADER_CANARY = "Bearer hdr-canary-Pw72mXn"
URL_CANARY = "pw-canary-Zt5c8"


class VendorOptions(ProviderOptions):
    api_token: SecretStr | None = Field(None, description="Marked secret by its type.")
    sdk_credential: str | None = Field(None, description="Secret by its name only.")
    headers: dict[str, str] = Field(default_factory=dict, description="Sent with each call.")
    endpoint: str = "http://vendor.invalid"


class VendorProvider(Provider):
    """Answers nothing; its start() and evaluations log and fail like an SDK offline."""

    name = "fakevendor"
    Options = VendorOptions
    options: VendorOptions

    def __init__(self, options: VendorOptions) -> None:
        super().__init__(options)
        self.received: str | None = None

    def _url(self) -> str:
        token = self.options.api_token
        self.received = token.get_secret_value() if token else self.options.sdk_credential
        return f"{self.options.endpoint}/api/features/{quote(self.received or '', safe='')}"

    def start(self) -> None:
        url = self._url()
        sdk = logging.getLogger("fakevendor")
        sdk.debug("Fetching features from %s with headers %r", url, self.options.headers)
        logging.getLogger("fakevendor.net.pool").warning("Retrying %s", url.split("/", 3)[3])
        try:
            raise ConnectionError(f"Max retries exceeded with url: {url}")
        except ConnectionError as exc:
            sdk.error("Failed to fetch features", exc_info=exc)
            logging.getLogger("fakevendor.late.child").warning("%s", exc)
        bare = logging.getLogger("fakevendor.bare")
        bare.propagate = False  # no handler anywhere: logging's lastResort prints to stderr
        bare.warning("giving up on %s (%s)", url, self.received, stack_info=True)
        self.status = self.status.ERROR

    def _fail(self, name: str) -> Any:
        if name == "no_such_flag":
            raise FlagNotFoundError(f"{name!r} not found at {self._url()}")
        raise GeneralError(f"vendor call to {self._url()} failed")

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        return self._fail(name)  # type: ignore[no-any-return]

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        return self._fail(name)  # type: ignore[no-any-return]

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        return self._fail(name)  # type: ignore[no-any-return]

    def names(self) -> FlagNames:
        return FlagNames(gates=frozenset({"new_checkout"}))


class _Plugin:
    @hookimpl
    def flagport_register_providers(self, register: Callable[[type[Provider]], None]) -> None:
        register(VendorProvider)


_PLUGIN = _Plugin()


@pytest.fixture(autouse=True)
def fakevendor() -> Iterator[None]:
    """Make ``provider = "fakevendor"`` selectable for the duration of a test."""
    registered = get_plugin_manager().is_registered(_PLUGIN)
    if not registered:
        register_plugin(_PLUGIN, name="secrets-tests-fakevendor")
    yield
    if not registered:
        unregister_plugin(_PLUGIN)


@pytest.mark.parametrize("source", SOURCES)
def test_a_providers_secret_never_shows(
    source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    given = settle_source(source, "fakevendor", "api_token", CANARY, tmp_path, monkeypatch)
    with LeakWatch(CANARY) as watch:
        fp = Flagport(provider="fakevendor", **given)
        provider = fp.provider
        exercise(fp, watch)
    assert provider.received == CANARY  # type: ignore[attr-defined]  # the real value
    assert "/api/features/***" in str(watch.texts)  # redacted, not dropped
    watch.assert_clean(capfd)


def test_secrets_known_by_name_only_never_show(capfd: pytest.CaptureFixture[str]) -> None:
    """An option a plugin did not mark (``sdk_credential``), an Authorization header, the
    password of a URL."""
    headers = {"Authorization": HEADER_CANARY, "Accept": "application/json"}
    endpoint = f"https://user:{URL_CANARY}@vendor.invalid"
    for canary in (CANARY, HEADER_CANARY, URL_CANARY):
        with LeakWatch(canary) as watch:
            fp = Flagport(
                provider="fakevendor", sdk_credential=CANARY, headers=headers, endpoint=endpoint
            )
            watch.add("pprint(settings)", pprint.pformat(fp.settings))
            watch.add("rich(settings)", pretty_repr(fp.settings))
            exercise(fp, watch)
        watch.assert_clean(capfd)


def test_a_strict_client_raises_no_secret() -> None:
    fp = Flagport(provider="fakevendor", strict=True, api_token=CANARY)
    with pytest.raises(GeneralError) as info:
        fp.check_gate(USER, "new_checkout")
    assert "/api/features/***" in str(info.value)
    assert CANARY not in f"{info.value!s} {info.value!r} {info.value.args}"
    fp.shutdown()


def test_redaction_ends_with_the_provider() -> None:
    """Redaction lasts as long as the provider: the registry does not grow forever."""
    canary = "tok-canary-lifecycle-1"  # held by no other provider of this process
    fp = Flagport(provider="fakevendor", api_token=canary)
    fp.check_gate(USER, "new_checkout")  # starts the provider
    with LeakWatch(canary) as watch:
        logging.getLogger("elsewhere").warning("token %s", canary)
        fp.shutdown()
        logging.getLogger("elsewhere").warning("token %s", canary)
    assert [text for _, text in watch.texts if text.startswith("elsewhere")] == [
        "elsewhere WARNING token ***\ntoken ***\nNone\nNone",
        f"elsewhere WARNING token {canary}\ntoken %s\n('{canary}',)\nNone",
    ]


def test_settings_print_masked_from_every_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "flagport.toml").write_text(
        '[fakevendor]\napi_token = "toml-canary-1"\nendpoint = "https://u:pw-canary-4@vendor"\n'
    )
    settings = load_settings(
        "fakevendor",
        {"headers": {"X-Api-Key": "arg-canary-3", "Accept": "text/plain"}},
        cwd=tmp_path,
        environ={"FLAGPORT_FAKEVENDOR_SDK_CREDENTIAL": "env-canary-2"},
    )
    shown = " ".join(
        [
            repr(settings),
            str(settings),
            repr(settings.options),
            pprint.pformat(settings),
            pretty_repr(settings),
        ]
    )
    for canary in ("toml-canary-1", "env-canary-2", "arg-canary-3", "pw-canary-4"):
        assert canary not in shown
    assert "'Accept': 'text/plain'" in shown  # only secrets are masked
    assert "https://u:***@vendor" in shown
    # The values themselves are intact for the provider.
    assert settings.options["api_token"] == "toml-canary-1"
    assert settings.options["headers"]["X-Api-Key"] == "arg-canary-3"


def test_the_migration_providers_options_print_without_inner_secrets(
    capfd: pytest.CaptureFixture[str],
) -> None:
    sides = {
        "from": {"provider": "fakevendor", "api_token": CANARY},
        "to": {"provider": "passall"},
    }
    options = MigrationOptions.model_validate(sides)
    for shown in (
        repr(options),
        str(options),
        repr(options.from_),
        str(options.from_),
        str(options.model_dump()),
        str(options.model_dump(mode="json", by_alias=True)),
        options.model_dump_json(),
    ):
        assert CANARY not in shown
    assert options.model_dump()["from_"] == {"provider": "fakevendor", "api_token": "***"}
    assert options.from_["api_token"] == CANARY
    with LeakWatch(CANARY) as watch:
        fp = Flagport(provider="migration", **sides)
        exercise(fp, watch)
    watch.assert_clean(capfd)


def test_option_validation_errors_never_quote_a_value() -> None:
    with pytest.raises(ValidationError) as info:
        MigrationOptions.model_validate(
            {"from": {"provider": 7, "api_token": CANARY}, "to": {"provider": "passall"}}
        )
    assert "'from' must be a table" in str(info.value)
    assert CANARY not in str(info.value)
    with pytest.raises(ValidationError) as info:
        VendorProvider.from_options(api_token=12_345_678_901, endpoint=["x"])
    assert "api_token" in str(info.value)
    assert "12345678901" not in str(info.value)


def test_an_invalid_user_names_the_field_never_the_value(
    capfd: pytest.CaptureFixture[str],
) -> None:
    bad = {"user_id": "u-1", "email": 5, "private": {"ssn": CANARY}, "custom": {"n": CANARY}}
    with LeakWatch(CANARY) as watch:
        with Flagport(provider="passall") as fp:
            result = fp.get_gate(bad, "new_checkout")
            watch.add("result", repr(result))
            other = fp.get_gate(CANARY, "new_checkout")  # type: ignore[arg-type]
            watch.add("result", repr(other))
        with Flagport(provider="passall", strict=True) as fp, pytest.raises(InvalidContextError):
            fp.get_gate({**bad, "private": {CANARY: "private attribute name"}}, "new_checkout")
    assert result.error_message is not None
    assert "'email'" in result.error_message
    assert "string" in result.error_message  # the type expected
    assert "ssn" not in str(watch.texts)
    assert other.error_message is not None
    assert other.error_message.endswith("expected a flagport.User or a mapping, got str")
    watch.assert_clean(capfd)


def test_a_private_attribute_is_not_named_in_errors() -> None:
    from flagport.user import as_user

    with pytest.raises(InvalidContextError) as info:
        as_user({"private": {1: "x"}, "user_id": "u-1"})
    assert str(info.value) == "invalid user: field 'private': Input should be a valid string"


def test_flagport_errors_hide_a_live_secret() -> None:
    canary = "tok-canary-lifecycle-2"  # held by no other provider of this process
    fp = Flagport(provider="fakevendor", api_token=canary)
    fp.check_gate(USER, "new_checkout")  # starts the provider
    try:
        error = FlagportError(f"call to https://vendor/{canary} failed")
        assert str(error) == "call to https://vendor/*** failed"
        assert canary not in repr(error)
    finally:
        fp.shutdown()
    assert canary in str(error)  # once the provider is gone the text is left alone


class RawErrorProvider(VendorProvider):
    """Fails the way an SDK does: its own exception type, the secret in the text."""

    name = "fakevendor-raw"

    def start(self) -> None:
        self.status = self.status.READY

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        raise RuntimeError(f"Max retries exceeded with url: {self._url()}")

    def stats(self) -> dict[str, Any]:
        raise RuntimeError(f"stats unavailable at {self._url()}")


def test_a_vendors_own_exception_text_is_redacted_in_results_and_stats() -> None:
    provider = RawErrorProvider(VendorOptions(api_token=SecretStr(CANARY)))
    with Flagport(provider=provider) as fp:
        gate = fp.get_gate(USER, "new_checkout")
        assert gate.error_message is not None
        assert "Max retries exceeded" in gate.error_message
        shown = f"{gate.error_message} {fp.stats()!r}"
    assert CANARY not in shown
    assert quote(CANARY, safe="") not in shown


@pytest.mark.parametrize(
    "form",
    [
        "gb+key=ü?&x",  # as given
        "gb%2Bkey=%C3%BC?&x",  # urllib3: only what it deems unsafe, upper-case hex
        "gb%2bkey%3d%c3%bc%3f%26x",  # lower-case hex
        "gb%2Bkey%3D%C3%BC%3F%26x",  # quote(safe="")
        "gb+key=%C3%BC?&x",  # partly encoded
    ],
)
def test_a_secret_is_redacted_in_every_url_encoding(form: str) -> None:
    secret = "gb+key=ü?&x"
    owner = VendorOptions(api_token=SecretStr(secret))
    protect(owner, owner)
    try:
        with LeakWatch(secret) as watch:
            logging.getLogger("urllib3.connectionpool").warning("GET /api/features/%s", form)
        assert [text.split("\n")[0] for _, text in watch.texts] == [
            "urllib3.connectionpool WARNING GET /api/features/***"
        ]
        assert redact(f"at https://cdn/api/features/{form}.json") == (
            "at https://cdn/api/features/***.json"
        )
    finally:
        release(owner)


def test_a_urls_query_string_is_redacted_whatever_its_option() -> None:
    # A presigned bucket URL carries its credential and signature in the query string,
    # and HTTP clients (httpx, urllib3) log each request's full URL.
    signature = "9f86d081884c7d659a2feaa0c55ad015"
    url = f"https://bucket.test/flags.yaml?X-Amz-Expires=300&X-Amz-Signature={signature}"
    owner = logging.Logger("owner")  # anything weakly referenceable holds the secrets
    protect(owner, {"url": url})
    try:
        with LeakWatch(signature) as watch:
            logging.getLogger("httpx").info('HTTP Request: GET %s "HTTP/1.1 200 OK"', url)
            logging.getLogger("app").warning("signature %s expired", signature)
        assert [text.split("\n")[0] for _, text in watch.texts] == [
            'httpx INFO HTTP Request: GET https://bucket.test/flags.yaml?*** "HTTP/1.1 200 OK"',
            "app WARNING signature *** expired",
        ]
    finally:
        release(owner)
