"""Where AWS credentials come from: the standard chain, as a generator over our own transport.

Order (the peer's and the AWS SDKs'): ``aws_web_identity_token`` with ``aws_role_name`` (STS
AssumeRoleWithWebIdentity); the call's ``aws_access_key_id``/``aws_secret_access_key``
(+ ``aws_session_token``), else ``aws_profile_name``, else the environment (``AWS_ACCESS_KEY_ID``
..., or ``AWS_WEB_IDENTITY_TOKEN_FILE`` with ``AWS_ROLE_ARN`` as on EKS), else the shared files for ``AWS_PROFILE`` (or ``default``) — static keys, or ``role_arn``
with a ``source_profile`` — else the container endpoint (ECS/EKS), else the instance metadata
service (IMDSv2). ``aws_role_name`` then assumes that role (STS AssumeRole) with what was found.
Anything the files describe that we do not speak ourselves (``credential_process``, SSO, web
identity) is handed to botocore when it is installed (``pip install llmtap[bedrock]``).

The fetches (STS, container, IMDS) are HttpRequests yielded to the call's pipeline, so sync and
async calls share this code and no thread blocks an event loop. Temporary credentials are
cached per source and refreshed five minutes before they expire.
"""

from __future__ import annotations

import configparser
import datetime
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from ..exceptions import AuthenticationError
from ..wire import HttpRequest, HttpResponse, TransportError
from . import aws_sigv4

REFRESH_MARGIN = 300.0  # seconds before expiry at which cached temporary credentials are renewed
FETCH_TIMEOUT = 2.0  # container credentials: a local agent answers fast or not at all
IMDS_TIMEOUT = 1.0  # instance metadata, as the AWS SDKs: off EC2 nothing answers, so fail fast
CONTAINER_HOST = "http://169.254.170.2"
IMDS_ENDPOINT = "http://169.254.169.254"


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    access_key: str
    secret_key: str
    token: str | None = None
    expiry: float | None = None  # time.time() seconds; None: never expires
    source: str = ""

    def fresh(self) -> bool:
        return self.expiry is None or self.expiry - REFRESH_MARGIN > time.time()

    def __repr__(self) -> str:  # never print the secret or the token
        return f"AwsCredentials(access_key={self.access_key!r}, source={self.source!r})"


_cache: dict[Any, AwsCredentials] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


Flow = Generator[HttpRequest, HttpResponse, Any]


def _fail(message: str) -> AuthenticationError:
    return AuthenticationError(message, llm_provider="bedrock")


def resolve(settings: dict, region: str) -> Flow:
    """The credentials to sign with (a generator: ``creds = yield from resolve(...)``)."""
    role = settings.get("aws_role_name")
    web_token = settings.get("aws_web_identity_token")
    if web_token:
        if not role:
            raise _fail("aws_web_identity_token needs aws_role_name (the role to assume with it)")
        return (yield from _web_identity(web_token, role, settings.get("aws_session_name"), region, settings.get("aws_sts_endpoint")))
    base = yield from _base(settings, region)
    if role:
        session = settings.get("aws_session_name") or "llmtap-session"
        key = ("role", role, session, base.access_key, settings.get("aws_external_id"))
        cached = _cache.get(key)
        if cached is not None and cached.fresh():
            return cached
        creds = yield from assume_role(base, role, session, region, settings.get("aws_sts_endpoint"), settings.get("aws_external_id"))
        with _lock:
            _cache[key] = creds
        return creds
    return base


def _base(settings: dict, region: str) -> Flow:
    key_id = settings.get("aws_access_key_id")
    secret = settings.get("aws_secret_access_key")
    if key_id or secret:
        if not (key_id and secret):
            missing = "aws_secret_access_key" if key_id else "aws_access_key_id"
            raise _fail(f"aws_access_key_id and aws_secret_access_key go together: {missing} is missing")
        return AwsCredentials(key_id, secret, settings.get("aws_session_token"), None, "call parameters")
    profile = settings.get("aws_profile_name")
    if profile:
        return (yield from _profile(profile, region, explicit=True))
    env_key = os.environ.get("AWS_ACCESS_KEY_ID")
    env_secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if env_key and env_secret:
        return AwsCredentials(env_key.strip(), env_secret.strip(), (os.environ.get("AWS_SESSION_TOKEN") or "").strip() or None, None, "environment")
    token_file = os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE")
    role_arn = os.environ.get("AWS_ROLE_ARN")
    if token_file and role_arn and not os.environ.get("AWS_PROFILE"):  # EKS (IRSA), GitHub OIDC ...
        try:
            with open(token_file) as fh:
                web_token = fh.read().strip()
        except OSError as exc:
            raise _fail(f"cannot read AWS_WEB_IDENTITY_TOKEN_FILE: {exc.strerror}") from None
        return (yield from _web_identity(web_token, role_arn, os.environ.get("AWS_ROLE_SESSION_NAME"), region, None))
    found = yield from _profile(os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default", region, explicit=bool(os.environ.get("AWS_PROFILE")))
    if found is not None:
        return found
    found = yield from _container()
    if found is not None:
        return found
    found = yield from _instance()
    if found is not None:
        return found
    raise _fail(
        "no AWS credentials found: pass aws_access_key_id/aws_secret_access_key (or aws_profile_name), "
        "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or run where container or instance credentials exist"
    )


# -- shared config and credentials files -----------------------------------------------------------


def _read_ini(path: str, config: bool) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser()
    try:
        parser.read(os.path.expanduser(path))
    except configparser.Error as exc:
        raise _fail(f"cannot read AWS {'config' if config else 'credentials'} file {path}: {exc.__class__.__name__}") from None
    out = {}
    for section in parser.sections():
        name = section
        if config:
            if section.startswith("profile "):
                name = section[8:].strip()
            elif section != "default":
                continue
        out[name] = dict(parser.items(section))
    return out


_profiles_seen: tuple[Any, dict[str, dict[str, str]]] | None = None


def _stamp(path: str) -> tuple[str, Any]:
    try:
        found = os.stat(os.path.expanduser(path))
    except OSError:
        return path, None
    return path, (found.st_mtime_ns, found.st_size, found.st_ino)


def profiles() -> dict[str, dict[str, str]]:
    """Every profile, the credentials file's keys over the config file's; read again only when
    a file (or which file) changed, so a call costs two ``stat``s, not two INI parses."""
    global _profiles_seen
    config_path = os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    creds_path = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    stamp = (_stamp(config_path), _stamp(creds_path))
    seen = _profiles_seen
    if seen is not None and seen[0] == stamp:
        return seen[1]
    merged: dict[str, dict[str, str]] = {}
    config = _read_ini(config_path, True)
    creds = _read_ini(creds_path, False)
    for source in (config, creds):
        for name, values in source.items():
            merged.setdefault(name, {}).update(values)
    _profiles_seen = (stamp, merged)
    return merged


def profile_region(name: str | None = None) -> str | None:
    name = name or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"
    return profiles().get(name, {}).get("region")


def _profile(name: str, region: str, explicit: bool, seen: tuple[str, ...] = ()) -> Flow:
    if False:
        yield
    all_profiles = profiles()
    values = all_profiles.get(name)
    if values is None:
        if explicit:
            raise _fail(f"AWS profile {name!r} is not in the shared config or credentials files")
        return None
    if values.get("aws_access_key_id") and values.get("aws_secret_access_key"):
        return AwsCredentials(values["aws_access_key_id"], values["aws_secret_access_key"], values.get("aws_session_token"), None, f"profile {name}")
    if values.get("role_arn") and values.get("source_profile"):
        source = values["source_profile"]
        if source in seen or source == name and not values.get("aws_access_key_id"):
            raise _fail(f"AWS profile {name!r}: source_profile chain loops")
        base = yield from _profile(source, region, True, (*seen, name))
        key = ("profile-role", name, base.access_key)
        cached = _cache.get(key)
        if cached is not None and cached.fresh():
            return cached
        session = values.get("role_session_name") or "llmtap-session"
        creds = yield from assume_role(base, values["role_arn"], session, values.get("region") or region, None,
                                       values.get("external_id"))
        with _lock:
            _cache[key] = creds
        return creds
    kinds = sorted(k for k in values if k in _BOTOCORE_ONLY)
    if kinds:
        found = _botocore(name)
        if found is not None:
            return found
    if explicit:
        hint = f" ({', '.join(kinds)} needs botocore: pip install 'llmtap[bedrock]')" if kinds else ""
        raise _fail(f"AWS profile {name!r} has no credentials llmtap can use{hint}")
    return None


_BOTOCORE_ONLY = frozenset({"credential_process", "sso_session", "sso_start_url", "web_identity_token_file"})


def _botocore(profile: str | None) -> AwsCredentials | None:
    """The rest of the AWS chain (credential_process, SSO, web identity), when botocore is installed."""
    try:
        import botocore.session
    except ImportError:
        return None
    key = ("botocore", profile)
    cached = _cache.get(key)
    if cached is not None and cached.fresh():
        return cached
    try:
        found = botocore.session.Session(profile=profile).get_credentials()
        frozen = found.get_frozen_credentials() if found is not None else None
    except Exception as exc:
        raise _fail(f"botocore could not load AWS credentials{f' for profile {profile!r}' if profile else ''}: {exc.__class__.__name__}") from None
    if frozen is None or not frozen.access_key:
        return None
    expiry = getattr(found, "_expiry_time", None)
    creds = AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token,
                           expiry.timestamp() if expiry is not None else None, f"botocore ({getattr(found, 'method', '?')})")
    with _lock:
        _cache[key] = creds
    return creds


# -- STS AssumeRole ---------------------------------------------------------------------------------


def sts_endpoint(region: str, explicit: str | None) -> str:
    base = explicit or os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL")
    return (base or f"https://sts.{region}.amazonaws.com").rstrip("/")


def assume_role(base: AwsCredentials, role: str, session: str, region: str, endpoint: str | None,
                external_id: str | None = None) -> Flow:
    url = sts_endpoint(region, endpoint) + "/"
    form = {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role, "RoleSessionName": session, "DurationSeconds": "3600"}
    if external_id:
        form["ExternalId"] = external_id
    body = urlencode(form).encode()
    headers = aws_sigv4.sign(
        "POST", url, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body,
        access_key=base.access_key, secret_key=base.secret_key, session_token=base.token, region=region, service="sts",
    )
    return (yield from _sts_call(url, headers, body, role, "keys"))


def _web_identity(web_token: str, role: str, session: str | None, region: str, endpoint: str | None) -> Flow:
    """STS AssumeRoleWithWebIdentity: an OIDC token for a role's credentials (unsigned call)."""
    key = ("web-identity", role, session, hashlib.sha256(web_token.encode()).hexdigest())
    cached = _cache.get(key)
    if cached is not None and cached.fresh():
        return cached
    url = sts_endpoint(region, endpoint) + "/"
    body = urlencode({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role,
                      "RoleSessionName": session or "llmtap-session", "WebIdentityToken": web_token}).encode()
    creds = yield from _sts_call(url, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body, role, "web identity")
    with _lock:
        _cache[key] = creds
    return creds


def _sts_call(url: str, headers: dict, body: bytes, role: str, how: str) -> Flow:
    try:
        response = yield HttpRequest("POST", url, headers, body, 30.0, False)
    except TransportError as exc:
        raise _fail(f"cannot assume role {role}: STS at {url} did not answer ({exc.kind})") from None
    text = response.body.decode("utf-8", "replace")
    if response.status != 200:
        message = _xml(text, "Message") or f"status {response.status}"
        raise _fail(f"cannot assume role {role}: {message}")
    fields = {name: _xml(text, name) for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")}
    if not (fields["AccessKeyId"] and fields["SecretAccessKey"]):
        raise _fail(f"cannot assume role {role}: STS's answer has no credentials")
    return AwsCredentials(fields["AccessKeyId"], fields["SecretAccessKey"], fields["SessionToken"],
                          _timestamp(fields["Expiration"]), f"assumed role {role} ({how})")


def _xml(text: str, tag: str) -> str | None:
    found = re.search(rf"<{tag}>([^<]*)</{tag}>", text)
    return found.group(1).strip() if found else None


def _timestamp(value: Any) -> float | None:
    if not value:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# -- container (ECS/EKS) and instance (IMDSv2) credentials ------------------------------------------


def _container() -> Flow:
    full = os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    relative = os.environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    if not (full or relative):
        return None
    url = full or CONTAINER_HOST + relative
    if full and not _allowed_container_uri(full):
        raise _fail("AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http on a loopback or the container "
                    "credentials address (169.254.170.2, 169.254.170.23): the authorization token is sent there")
    cached = _cache.get(("container", url))
    if cached is not None and cached.fresh():
        return cached
    headers = {"Accept": "application/json"}
    token = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    token_file = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if token_file:
        try:
            with open(token_file) as fh:
                token = fh.read().strip()
        except OSError as exc:
            raise _fail(f"cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: {exc.strerror}") from None
    if token:
        headers["Authorization"] = token
    try:
        response = yield HttpRequest("GET", url, headers, None, FETCH_TIMEOUT, False)
    except TransportError as exc:
        raise _fail(f"container credentials endpoint did not answer ({exc.kind})") from None
    creds = _from_json(response, "container")
    with _lock:
        _cache[("container", url)] = creds
    return creds


def _allowed_container_uri(url: str) -> bool:
    """The AWS SDKs' rule: an http full URI must stay on this host or the ECS/EKS agent."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname in ("localhost", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"):
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _instance() -> Flow:
    if (os.environ.get("AWS_EC2_METADATA_DISABLED") or "").lower() == "true":
        return None
    base = (os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or IMDS_ENDPOINT).rstrip("/")
    cached = _cache.get(("imds", base))
    if cached is not None and cached.fresh():
        return cached
    try:
        token_answer = yield HttpRequest("PUT", base + "/latest/api/token", {"x-aws-ec2-metadata-token-ttl-seconds": "21600"}, b"", IMDS_TIMEOUT, False)
        if token_answer.status != 200:
            return None
        headers = {"x-aws-ec2-metadata-token": token_answer.body.decode("utf-8", "replace").strip()}
        path = base + "/latest/meta-data/iam/security-credentials/"
        role_answer = yield HttpRequest("GET", path, headers, None, IMDS_TIMEOUT, False)
        role = role_answer.body.decode("utf-8", "replace").strip().splitlines()[0] if role_answer.status == 200 and role_answer.body.strip() else None
        if not role:
            return None
        response = yield HttpRequest("GET", path + quote(role, safe=""), headers, None, IMDS_TIMEOUT, False)
    except TransportError:
        return None  # not on an instance
    creds = _from_json(response, "instance metadata")
    with _lock:
        _cache[("imds", base)] = creds
    return creds


def _from_json(response: HttpResponse, source: str) -> AwsCredentials:
    try:
        data = json.loads(response.body) if response.status == 200 else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not data.get("AccessKeyId") or not data.get("SecretAccessKey"):
        raise _fail(f"{source} credentials endpoint answered status {response.status} without credentials")
    return AwsCredentials(data["AccessKeyId"], data["SecretAccessKey"], data.get("Token") or data.get("SessionToken"),
                          _timestamp(data.get("Expiration")), source)
