"""Errors of the accounts domain."""

from fxsite.errors import ApplicationError


class AccountsError(ApplicationError):
    code = "accounts_error"


class AccountLocked(AccountsError):
    code = "account_locked"
    status_code = 403
    default_message = "Too many failed logins; the account is locked."


class InvalidCredentials(AccountsError):
    code = "authentication_failed"
    status_code = 401
    default_message = "No active account found with the given credentials."


class SignupDisabled(AccountsError):
    code = "signup_disabled"
    status_code = 403
    default_message = "Sign-up is disabled; ask an operator to create your user."


class InvalidToken(AccountsError):
    code = "token_not_valid"
    status_code = 400
