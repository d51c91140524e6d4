"""``[api] auth = keystone``: Keystone tokens, validated by keystonemiddleware.

keystonemiddleware's ``auth_token`` is WSGI middleware; the API is ASGI.
Rather than bridge the whole app to WSGI and back, each request's token is
handed to an :class:`AuthProtocol` in front of a tiny WSGI app that only
records that it was reached: the middleware validates the token (against
its in-process cache, else Keystone), sets ``X-Roles``, ``X-Project-Id``
and ``X-User-Id``, and those become the caller's
:class:`~optimizer.api.policy.Credentials`. Only the token reaches the
middleware, never the caller's other headers, so a client cannot pass
``X-Roles`` of its own. Memcache is off: validated tokens stay in the
process for ``token_cache_time`` seconds, so a revoked token is refused once
it leaves that cache.
"""
from __future__ import annotations

import io
import logging

from fastapi import Request
from keystoneauth1 import loading
from keystonemiddleware.auth_token import AuthProtocol
from oslo_config import cfg

from optimizer.api.auth import ADMIN, READER, token_of
from optimizer.api.errors import ApiError, Unauthorized
from optimizer.api.policy import Credentials
from optimizer.config import ConfigError, KeystoneSettings

GROUP = "keystone_authtoken"
_REACHED = "optimizer.keystone.reached"


class KeystoneUnavailable(ApiError):
    """Keystone could not be asked whether a token is valid (503)."""

    status = 503


def _no_cache_warning(record: logging.LogRecord) -> bool:
    return "in-process token cache is deprecated" not in record.getMessage()


def _reached(environ: dict, start_response) -> list[bytes]:
    """The app behind the middleware: a request that gets here has a valid token."""
    environ[_REACHED] = True
    start_response("204 No Content", [])
    return []


class KeystoneAuth:
    """Callers identified by Keystone tokens (the ``auth`` of an app)."""

    def __init__(self, settings: KeystoneSettings):
        missing = [name for name in ("auth_url", "username", "password")
                   if not getattr(settings, name)]
        if missing:
            raise ConfigError(f"[api] auth = keystone needs [{GROUP}] "
                              f"{', '.join(missing)}")
        # the in-process cache is chosen on purpose: not its deprecation warning
        logging.getLogger("keystonemiddleware.auth_token").addFilter(_no_cache_warning)
        self._middleware = AuthProtocol(_reached, _middleware_conf(settings))
        self.www_authenticate_uri = settings.www_authenticate_uri or settings.auth_url

    def credentials(self, request: Request) -> Credentials:
        """The caller's roles and project from Keystone, or :class:`Unauthorized`."""
        return self.validate(token_of(request))

    def validate(self, token: str | None) -> Credentials:
        """Credentials of a token; 401 for a missing, expired or revoked one."""
        if not token:
            raise self._unauthorized("a Keystone token is needed (X-Auth-Token)")
        environ = _environ(token)
        status: list[str] = []
        self._middleware(environ, lambda s, headers, exc_info=None: status.append(s))
        if environ.get(_REACHED) and environ.get("HTTP_X_IDENTITY_STATUS") == "Confirmed":
            return Credentials(
                tuple(r for r in environ.get("HTTP_X_ROLES", "").split(",") if r),
                environ.get("HTTP_X_PROJECT_ID"), environ.get("HTTP_X_USER_ID"))
        code = status[0].split()[0] if status else "401"
        if code == "503":
            raise KeystoneUnavailable(f"Keystone at {self.www_authenticate_uri} did not "
                                      "answer whether the token is valid")
        raise self._unauthorized("the Keystone token is not valid (expired, revoked "
                                 "or unknown)")

    def role_of(self, token: str | None) -> str | None:
        """``admin``, ``reader`` or None, as :meth:`TokenAuth.role_of` answers."""
        try:
            roles = self.validate(token).roles
        except ApiError:
            return None
        return ADMIN if "admin" in roles else READER

    def _unauthorized(self, message: str) -> Unauthorized:
        return Unauthorized(message, headers={
            "WWW-Authenticate": f'Keystone uri="{self.www_authenticate_uri}"'})


def _environ(token: str) -> dict:
    """A bare WSGI request carrying only the token."""
    return {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": "",
            "SERVER_NAME": "optimizer", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(),
            "HTTP_X_AUTH_TOKEN": token}


def _middleware_conf(settings: KeystoneSettings) -> dict:
    """keystonemiddleware's options: its own in the dict, the service user's in a conf.

    The password plugin's options are not keystonemiddleware's, so they go
    into an oslo.config object of their own (the dict would log each as
    unknown); nothing is read from files or the process's global config.
    """
    conf = cfg.ConfigOpts()
    conf([], project="optimizer", default_config_files=[], default_config_dirs=[])
    plugin_opts = loading.get_auth_plugin_conf_options("password")
    conf.register_opts(plugin_opts, group=GROUP)
    for name in ("auth_url", "username", "password", "project_name", "user_domain_name",
                 "project_domain_name"):
        conf.set_override(name, getattr(settings, name), group=GROUP)
    return {"oslo_config_config": conf, "auth_type": "password",
            "www_authenticate_uri": settings.www_authenticate_uri or settings.auth_url,
            "region_name": settings.region_name, "interface": settings.interface,
            "token_cache_time": settings.token_cache_time,
            "delay_auth_decision": False, "include_service_catalog": False}
