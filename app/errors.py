"""Application errors: HTTP-free; problems.py renders them as RFC 9457 problem details."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error a service raises on purpose; class attributes give the problem type."""

    status: int = 400
    type: str = "about:blank"
    title: str = "Bad request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


class NotFoundError(AppError):
    status, type, title = 404, "/problems/not-found", "Not found"


class CompanyNotFoundError(NotFoundError):
    type, title = "/problems/company-not-found", "Company not found"


class PolicyNotFoundError(NotFoundError):
    type, title = "/problems/policy-not-found", "Policy not found"


class DecisionNotFoundError(NotFoundError):
    type, title = "/problems/decision-not-found", "Decision not found"


class ClientNotFoundError(NotFoundError):
    type, title = "/problems/client-not-found", "API client not found"


class RegionNotFoundError(NotFoundError):
    type, title = "/problems/region-not-found", "Region not found"


class OfficialNotFoundError(NotFoundError):
    type, title = "/problems/official-not-found", "Official not found"


class ConflictError(AppError):
    status, type, title = 409, "/problems/conflict", "Conflict"


class CreditCodeTakenError(ConflictError):
    type, title = "/problems/credit-code-taken", "Credit code already registered"


class OfficialExistsError(ConflictError):
    type, title = "/problems/official-exists", "Official already exists"


class InvalidCredentialsError(AppError):
    status, type, title = 422, "/problems/invalid-credentials", "Invalid username or password"


class UnknownActivityError(AppError):
    status, type, title = 422, "/problems/unknown-activity", "Unknown activity"


class PreconditionFailedError(AppError):
    status, type, title = 412, "/problems/precondition-failed", "Precondition failed"


class PreconditionRequiredError(AppError):
    status, type, title = 428, "/problems/precondition-required", "Precondition required"


class UnauthorizedError(AppError):
    status, type, title = 401, "/problems/unauthorized", "Authentication required"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="huiqi"'}, **extensions)


class ForbiddenError(AppError):
    status, type, title = 403, "/problems/forbidden", "Forbidden"


class RateLimitedError(AppError):
    status, type, title = 429, "/problems/rate-limited", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **extensions: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, retry_after=retry_after, **extensions)


class ReplayUnavailableError(AppError):
    status, type, title = 409, "/problems/replay-unavailable", "Decision cannot be replayed"


class StoredProfileInvalidError(AppError):
    status, type, title = 409, "/problems/stored-profile-invalid", "Stored profile no longer valid"


class ServiceUnavailableError(AppError):
    status, type, title = 503, "/problems/service-unavailable", "Service unavailable"

    def __init__(self, detail: str, *, retry_after: int, **extensions: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, retry_after=retry_after, **extensions)


class DatabaseUnavailableError(ServiceUnavailableError):
    type, title = "/problems/database-unavailable", "Database unavailable"


class RuleSetRejectedError(AppError):
    """A reload found the rule files on disk broken (or not the pinned version); the running set is kept."""

    status, type, title = 422, "/problems/ruleset-rejected", "Rule set rejected"


class WebhookNotFoundError(NotFoundError):
    type, title = "/problems/webhook-not-found", "Webhook not found"


class DeliveryNotFoundError(NotFoundError):
    type, title = "/problems/delivery-not-found", "Delivery not found"


class WebhookUrlRefusedError(AppError):
    """A webhook URL that is not http(s), or that leads to a private, loopback or otherwise internal
    address (unless APP_WEBHOOK_ALLOW_PRIVATE_ADDRESSES): the service must not be a way into its network."""

    status, type, title = 422, "/problems/webhook-url-refused", "Webhook URL refused"


# Not problems: the console turns these two into a page of its own (app/console/web.py, install).


class SignInRequiredError(Exception):
    """No live console session: the handler redirects to the sign-in page, then back to `next_url`."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class CsrfRejectedError(Exception):
    """A console POST without the right CSRF token: the handler answers 403 with a page."""
