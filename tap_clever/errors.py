"""Errors the tap raises, with messages that say what went wrong and what to do.

Messages name the district and the endpoint, never a token: callers pass only the request's
path and query, and tokens only ever travel in headers.
"""

from __future__ import annotations

from singer_sdk.exceptions import ConfigValidationError, FatalAPIError

# What each status Clever documents means, and what the user can do about it.
STATUS_ADVICE: dict[int, str] = {
    400: "Clever rejected the request as malformed (bad request). Check the filters in your "
    "settings (user_roles, event_record_types); if they look right, report a tap bug.",
    401: "Clever rejected the bearer token (unauthorized): it is wrong, revoked, or the "
    "district disconnected the application. Get a current district-app token (or use "
    "client_id/client_secret so the tap discovers current tokens itself).",
    403: "Clever refused access (forbidden): the application lacks the scope for this "
    "endpoint, or the district is not a Secure Sync district (sections and events need one).",
    404: "Clever says this is not available (not found): a wrong api_url, a token without "
    "access to this endpoint, events not enabled for the application, or a record that was "
    "unshared or deleted. Check api_url and the application's settings in Clever.",
    413: "The page size is over Clever's maximum of 10000 records (request entity too large). "
    "Set page_size to 10000 or less.",
    501: "Clever does not support this request (not implemented). Check api_url (the tap "
    "speaks API v3.1) and the filters in your settings.",
}


class CleverError(FatalAPIError):
    """Base class of the tap's own fatal errors."""


class CleverAPIError(CleverError):
    """Clever answered with an error status that retrying will not fix."""

    def __init__(self, *, where: str, status: int, detail: str = "") -> None:
        advice = STATUS_ADVICE.get(status, "Clever answered with an unexpected error status.")
        message = f"{where} failed with HTTP {status}. {advice}"
        if detail:
            message += f" Clever said: {detail}"
        super().__init__(message)
        self.status = status
        self.detail = detail


class CleverResponseError(CleverError):
    """Clever answered 200 but not with the JSON shape the API documents."""

    def __init__(self, *, where: str, problem: str) -> None:
        super().__init__(
            f"{where} returned a response that is not a Clever API list: {problem}. "
            "Check that api_url points at the Clever API (https://api.clever.com) and not at "
            "a proxy or login page. No state was written past the last complete page."
        )


class CleverConnectionError(CleverError):
    """Clever could not be reached, or kept failing, after every retry."""


class CleverDistrictsFailedError(CleverError):
    """One or more districts failed; the others were synced."""


class InstantLoginTokenError(ConfigValidationError):
    """An Instant Login token was configured where a district-app token is needed."""

    def __init__(self, setting: str) -> None:
        message = (
            f"The token in `{setting}` is a Clever Instant Login token (it starts with 'il'). "
            "Instant Login tokens only read /me and their owner's own records and cannot sync "
            "a district. Use a district-app token (Secure Sync), or set client_id and "
            "client_secret so the tap discovers every district token of your application."
        )
        # The SDK's command line prints `errors`, not the message, for configuration errors.
        super().__init__(message, errors=[message])


class PiiConfigError(ConfigValidationError):
    """The student-privacy settings (`pii_mode`, `pii_salt`) do not fit together."""

    def __init__(self, message: str) -> None:
        # The SDK's command line prints `errors`, not the message, for configuration errors.
        super().__init__(message, errors=[message])
