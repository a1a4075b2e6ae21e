"""Settings checked before any data moves, each problem reported as one line.

A line names the setting and its environment variable, says what is wrong and how to fix it,
and never shows a token. The SDK's own schema validation names the setting but not the fix,
and echoes the value (a mistyped `district_tokens` is a token): for the settings checked here,
its messages are replaced.

The checks come in three steps: the settings' values (when the tap starts, as the SDK's
validation does; discovery validates nothing), then, before a command-line sync's first
message (`SyncRun.check_before_sync`), that credentials are set and that each Clever host
accepts a connection. An unreachable host fails there at once instead of after every retry;
failures once the host has answered are the sync's, retried as usual.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from singer_sdk.exceptions import ConfigValidationError
from urllib3.exceptions import NameResolutionError, NewConnectionError

from tap_clever import districts
from tap_clever.districts import configured_tokens
from tap_clever.errors import InstantLoginTokenError
from tap_clever.shards import DistrictShard

ENV_PREFIX = "TAP_CLEVER_"
PAGE_SIZE_RANGE = (1, 10000)
PARALLEL_DISTRICTS_RANGE = (1, 64)
_SECRETS = frozenset({"auth_token", "district_tokens", "client_secret", "pii_salt"})
# The SDK's validation messages end with the setting they are about: "... in config['name']".
_SDK_SETTING = re.compile(r" in config\['([^']+)'\]")


class SettingsError(ConfigValidationError):
    """Settings the tap cannot run with. The SDK's command line prints each of `errors` as one
    line, without a traceback, and exits with status 1."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems), errors=problems)


def env_var(setting: str) -> str:
    """The environment variable of a setting (as the SDK and Meltano name it)."""
    return ENV_PREFIX + setting.upper()


def named(setting: str) -> str:
    return f"{setting} ({env_var(setting)})"


# --- values -------------------------------------------------------------------------------------


def value_problems(config: Mapping[str, Any], sdk_errors: Iterable[str] = ()) -> list[str]:
    """What is wrong with the settings' values, one line each (empty: nothing).

    `sdk_errors` are the SDK's schema validation messages: those about a setting checked here
    are dropped (its line here says more), the others are kept.
    """
    problems: dict[str, str] = {}
    for setting in ("api_url", "oauth_url"):
        _put(problems, setting, _url_problem(setting, config.get(setting)))
    _put(problems, "auth_token", _token_problem(config.get("auth_token")))
    _put(problems, "district_tokens", _token_list_problem(config.get("district_tokens")))
    for setting in ("client_id", "client_secret"):
        _put(problems, setting, _text_problem(setting, config.get(setting)))
    _put(problems, "page_size", _integer_problem(config, "page_size", *PAGE_SIZE_RANGE))
    _put(
        problems,
        "max_parallel_districts",
        _integer_problem(config, "max_parallel_districts", *PARALLEL_DISTRICTS_RANGE),
    )
    _put(problems, "request_timeout", _integer_problem(config, "request_timeout", 1, None))
    _put(problems, "district_shard", _shard_problem(config.get("district_shard")))
    if not problems.keys() & {"auth_token", "district_tokens"}:
        _put(problems, "auth_token", _instant_login_problem(config))
    for error in sdk_errors:
        match = _SDK_SETTING.search(error)
        if match is None:
            problems[error] = error
            continue
        setting = match.group(1)
        if setting in problems:
            continue
        if setting in _SECRETS:
            # The SDK's message quotes the value: a secret here.
            problems[setting] = f"{named(setting)} is not valid: see `tap-clever --about`."
        else:
            problems[error] = f"{named(setting)}: {error}; see `tap-clever --about`."
    return list(problems.values())


def _put(problems: dict[str, str], setting: str, problem: str | None) -> None:
    if problem is not None and setting not in problems:
        problems[setting] = problem


def _url_problem(setting: str, value: Any) -> str | None:
    default = "https://api.clever.com" if setting == "api_url" else "https://clever.com"
    fix = f"set it to a full URL such as {default}, or unset it for that default."
    if value is None:
        return None
    if not isinstance(value, str):
        return f"{named(setting)} is not text: {fix}"
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 (a port that is not a number raises)
    except ValueError:
        return f"{named(setting)} is {_shown_url(value)}, not a URL: {fix}"
    if parts.scheme not in ("http", "https"):
        shown = _shown_url(value)
        return f"{named(setting)} is {shown}, without https:// or http://: {fix}"
    if not host:
        return f"{named(setting)} is {_shown_url(value)}, without a host name: {fix}"
    return None


def _shown_url(url: str) -> str:
    """The URL as messages show it: without a user name or password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(not shown)"
    if "@" in parts.netloc:
        parts = parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1])
    return repr(urlunsplit(parts))


def _token_problem(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return None
    return (
        f"{named('auth_token')} must be one token, as text: for several districts set "
        f"{named('district_tokens')} to a JSON list instead."
    )


def _token_list_problem(value: Any) -> str | None:
    example = f"""{env_var("district_tokens")}='["token1","token2"]'"""
    if value is None:
        return None
    if isinstance(value, str) and districts.token_list(value) is None:
        return (
            f"{named('district_tokens')} is a single string, not a list of tokens: set it to a "
            f"JSON list, e.g. {example}, or set auth_token for "
            "one district."
        )
    value = districts.token_list(value)
    if value is None:
        return (
            f"{named('district_tokens')} is not a list of tokens: set it to a JSON list, "
            f"e.g. {example}."
        )
    for index, token in enumerate(value):
        if not isinstance(token, str):
            return (
                f"{named('district_tokens')}: item {index} is not a token (text): set it to a "
                f"JSON list of strings, e.g. {example}."
            )
    return None


def _shard_problem(value: Any) -> str | None:
    if value is None or DistrictShard.parse(value) is not None:
        return None
    shown = repr(value) if isinstance(value, str) else "not text"
    return (
        f"{named('district_shard')} is {shown}: set it to i/n, this run's shard i of n "
        "parallel runs (1 <= i <= n), e.g. 1/4 to 4/4 for four runs, or unset it to sync "
        "every district."
    )


def _text_problem(setting: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return None
    return f"{named(setting)} must be text: set it to the value shown in the Clever dashboard."


def _integer_problem(
    config: Mapping[str, Any], setting: str, low: int, high: int | None
) -> str | None:
    value = config.get(setting)
    if value is None:
        return None
    ok = isinstance(value, int) and not isinstance(value, bool)
    if ok and value >= low and (high is None or value <= high):
        return None
    shown = repr(value) if isinstance(value, (int, float, str)) else type(value).__name__
    allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
    return (
        f"{named(setting)} is {shown}: set it to a whole number {allowed}, or unset it for "
        "the default."
    )


def _instant_login_problem(config: Mapping[str, Any]) -> str | None:
    try:
        districts.reject_instant_login_tokens(config)
    except InstantLoginTokenError as error:
        return str(error)
    return None


# --- before the sync ----------------------------------------------------------------------------


def has_app_credentials(config: Mapping[str, Any]) -> bool:
    return bool(config.get("client_id") and config.get("client_secret"))


def credentials_problem(config: Mapping[str, Any]) -> str | None:
    """Why the settings hold no way to read a district, if they do not."""
    if configured_tokens(config) or has_app_credentials(config):
        return None
    half = [s for s in ("client_id", "client_secret") if config.get(s)]
    if half:
        missing = "client_secret" if half == ["client_id"] else "client_id"
        return (
            f"{named(missing)} is not set, and {half[0]} alone cannot read Clever: set "
            f"{missing} too, or set auth_token / district_tokens instead."
        )
    return (
        "No Clever credentials are set: set client_id and client_secret "
        f"({env_var('client_id')}, {env_var('client_secret')}) to sync every district of the "
        f"application, or {named('auth_token')} for one district, or "
        f"{named('district_tokens')} to a JSON list of tokens."
    )


def unreachable_problem(
    session: requests.Session, setting: str, url: str, *, timeout: float
) -> str | None:
    """Why `url` cannot be connected to at all, if it cannot: one GET, not retried.

    Only a failure to open a connection counts (the name does not resolve, the connection is
    refused or times out, TLS fails): retrying would not fix the setting. Any answer, whatever
    its status, or a failure after connecting, is left to the sync, which retries it.
    """
    try:
        session.get(url.rstrip("/") + "/", timeout=timeout, allow_redirects=False).close()
    except requests.exceptions.SSLError:
        cause = "the TLS handshake failed (wrong host, or a proxy without its CA certificate)"
    except requests.exceptions.ConnectTimeout:
        cause = f"no connection within {timeout:g} s (request_timeout)"
    except requests.exceptions.ProxyError:
        cause = "the proxy refused the connection"
    except requests.exceptions.ConnectionError as error:
        reason = _connect_failure(error)
        if reason is None:
            return None
        cause = reason
    except requests.RequestException:
        return None
    else:
        return None
    return (
        f"{named(setting)}: could not reach Clever at {_shown_url(url)}: {cause}. Check the URL "
        "(or unset it for Clever's own) and this machine's network, then rerun."
    )


def _connect_failure(error: requests.exceptions.ConnectionError) -> str | None:
    """What kept a connection from opening, or None if it opened (and failed later)."""
    reason: BaseException | None = error
    while reason is not None:
        if isinstance(reason, NameResolutionError):
            return "the host name does not resolve (DNS)"
        if isinstance(reason, NewConnectionError):
            cause = reason.__cause__ or reason.__context__
            if isinstance(cause, ConnectionRefusedError) or (
                isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED
            ):
                return "the connection was refused"
            return "no connection could be opened"
        reason = getattr(reason, "reason", None) or (reason.args[0] if reason.args else None)
        if not isinstance(reason, BaseException):
            return None
    return None
