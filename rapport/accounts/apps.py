from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rapport.accounts"
    label = "accounts"

    def ready(self) -> None:
        from rapport.accounts import signals  # noqa: F401  (connects the login audit receivers)
        from rapport.accounts.mfa_adapter import rotate_mfa_secrets
        from rapport.core.keyrotation import extra_rotators

        extra_rotators["mfa.Authenticator"] = rotate_mfa_secrets
