from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter

from rapport.core.keyring import active_keyring

# allauth stores TOTP secrets and recovery-code seeds as given by the adapter; by default that is
# plain text. Seal them with the same keyring as clinical text so a database copy alone is useless.
_ASSOCIATED_DATA = b"allauth.mfa.secret"


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return active_keyring().encrypt(text.encode("utf-8"), _ASSOCIATED_DATA)

    def decrypt(self, encrypted_text: str) -> str:
        return active_keyring().decrypt(encrypted_text, _ASSOCIATED_DATA).decode("utf-8")


def rotate_mfa_secrets(active_key_id: str) -> tuple[int, list[str]]:
    """Re-seal TOTP secrets and recovery-code seeds under the active key.

    Returns how many authenticators changed, and those no key in the keyring opens (left as they were).
    """
    from allauth.mfa.models import Authenticator
    from django.db import transaction

    from rapport.core.crypto import DecryptionError, key_id_of

    keyring = active_keyring()
    changed = 0
    undecryptable: list[str] = []
    with transaction.atomic():
        for authenticator in Authenticator.objects.select_for_update().filter(
            type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
        ):
            data = dict(authenticator.data)
            touched = False
            try:
                for key in ("secret", "seed"):
                    sealed = data.get(key)
                    if isinstance(sealed, str) and key_id_of(sealed) != active_key_id:
                        data[key] = keyring.encrypt(keyring.decrypt(sealed, _ASSOCIATED_DATA), _ASSOCIATED_DATA)
                        touched = True
            except DecryptionError:
                undecryptable.append(f"mfa.Authenticator #{authenticator.pk}")
                continue
            if touched:
                authenticator.data = data
                authenticator.save(update_fields=["data"])
                changed += 1
    return changed, undecryptable
