"""Password hashing with scrypt, a memory-hard KDF.

Users provisioned over SCIM may carry a password (Okta sends one on create);
the server keeps only this hash and never returns or logs the password. The
encoded form records its parameters, so the cost can be raised later without
invalidating existing hashes.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

SALT_BYTES = 16
HASH_BYTES = 32


@dataclasses.dataclass(frozen=True)
class PasswordHasher:
    """scrypt with cost ``2**log2_n``, block size ``r`` and parallelism ``p``.

    The default, n=2**15 and r=8, uses 32 MiB and tens of milliseconds per
    hash, OWASP's recommended floor for scrypt.
    """

    log2_n: int = 15
    r: int = 8
    p: int = 1

    def hash(self, password: str) -> str:
        salt = secrets.token_bytes(SALT_BYTES)
        digest = self._kdf(salt, self.log2_n, self.r, self.p).derive(password.encode())
        return "$".join(
            [
                "scrypt",
                f"ln={self.log2_n},r={self.r},p={self.p}",
                base64.b64encode(salt).decode(),
                base64.b64encode(digest).decode(),
            ]
        )

    def verify(self, password: str, encoded: str) -> bool:
        try:
            scheme, params, salt_text, digest_text = encoded.split("$")
            fields = dict(item.split("=") for item in params.split(","))
            log2_n, r, p = int(fields["ln"]), int(fields["r"]), int(fields["p"])
            salt = base64.b64decode(salt_text)
            digest = base64.b64decode(digest_text)
        except (ValueError, KeyError):
            return False
        if scheme != "scrypt":
            return False
        try:
            self._kdf(salt, log2_n, r, p).verify(password.encode(), digest)
        except InvalidKey:
            return False
        return True

    @staticmethod
    def _kdf(salt: bytes, log2_n: int, r: int, p: int) -> Scrypt:
        return Scrypt(salt=salt, length=HASH_BYTES, n=2**log2_n, r=r, p=p)
