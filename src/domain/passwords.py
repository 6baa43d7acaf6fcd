"""The password policy: lengths only (NIST SP 800-63B: no composition rules, long passphrases welcome)."""

from domain.errors import PasswordRejected

MIN_PASSWORD_LENGTH = 8
# Argon2 hashes input of any length in the same time, but a request body should not carry a megabyte
# password into it; 1024 characters is more than any passphrase.
MAX_PASSWORD_LENGTH = 1024


def check_new_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise PasswordRejected(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
    return password
