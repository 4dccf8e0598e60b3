"""Hostile-input tests use the console's fixtures (an official, signing in) as well as the shared ones."""

from tests.console.conftest import PASSWORD, _fresh_cookies, form_token, official, sign_in_with, signed_in

__all__ = ["PASSWORD", "_fresh_cookies", "form_token", "official", "sign_in_with", "signed_in"]
