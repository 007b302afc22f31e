"""Accounts: sign-up, log in/out, password change and reset, Argon2, login rate limit."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.cache import cache
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from newsdesk.accounts import ratelimit
from newsdesk.accounts.models import Profile, is_blocked, set_blocked

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "correct horse battery staple 9"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice():
    return User.objects.create_user("alice", "alice@example.org", PASSWORD)


def login(client: Client, username: str, password: str, **extra):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, **extra)


def test_signup_stores_an_argon2_hash_and_signs_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "newreader",
            "email": "new@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newreader")
    assert user.email == "new@example.org"
    assert user.password.startswith("argon2$")
    assert user.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_applies_password_validators_and_unique_email(client, alice):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "weak",
            "email": "weak@example.org",
            "password1": "12345678",
            "password2": "12345678",
        },
    )
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "copycat",
            "email": "ALICE@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert "already exists" in response.content.decode()
    assert not User.objects.filter(username__in=["weak", "copycat"]).exists()


def test_signup_redirects_only_to_local_next(client):
    data = {
        "username": "r1",
        "email": "r1@example.org",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    response = client.post(reverse("accounts:signup") + "?next=https://evil.example/", data)
    assert response["Location"] == "/"


def test_signup_is_limited_per_address(client, settings):
    settings.NEWSDESK_SIGNUPS_PER_IP_PER_HOUR = 1
    for n in range(2):
        Client().post(
            reverse("accounts:signup"),
            {
                "username": f"s{n}",
                "email": f"s{n}@example.org",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
    assert User.objects.filter(username__startswith="s").count() == 1


def test_login_and_logout(client, alice):
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(alice.pk)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "alice@example.org" in page
    assert client.get(reverse("accounts:logout")).status_code == 405  # only POST logs out
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_login_honours_safe_next(client, alice):
    response = client.post(
        reverse("accounts:login") + "?next=/articles/7/%23comments",
        {"username": "alice", "password": PASSWORD},
    )
    assert response["Location"] == "/articles/7/#comments"


def test_profile_needs_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_password_change(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another fine passphrase 7",
            "new_password2": "another fine passphrase 7",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_change_done")
    alice.refresh_from_db()
    assert alice.check_password("another fine passphrase 7")
    assert alice.password.startswith("argon2$")


def test_password_reset_by_email(client, alice):
    response = client.post(reverse("accounts:password_reset"), {"email": "alice@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", message.body).group(1)

    response = client.get(link)  # Django swaps the token for a session marker
    assert response.status_code == 302
    form_url = response["Location"]
    assert "Choose a new password" in client.get(form_url).content.decode()
    response = client.post(form_url, {"new_password1": "brand new secret 42x", "new_password2": "brand new secret 42x"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password("brand new secret 42x")
    # The link is single-use.
    assert "invalid" in client.get(link, follow=True).content.decode()


def test_password_reset_says_nothing_about_unknown_addresses(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_reset_is_rate_limited(client, alice, settings):
    settings.NEWSDESK_PASSWORD_RESETS_PER_EMAIL_PER_HOUR = 2
    for _ in range(2):
        client.post(reverse("accounts:password_reset"), {"email": "alice@example.org"})
    response = client.post(reverse("accounts:password_reset"), {"email": "alice@example.org"})
    assert response.status_code == 200
    assert "Too many password reset requests" in response.content.decode()
    assert len(mail.outbox) == 2


def test_login_rate_limit_per_address_and_username(client, alice):
    for _ in range(4):
        response = login(client, "alice", "wrong")
        assert "Please enter a correct username and password" in response.content.decode()
    response = login(client, "Alice", "wrong")  # the fifth failure, any capitalisation
    page = response.content.decode()
    assert "Too many failed login attempts. Please try again in 15 minutes." in page
    assert response.status_code == 429 and 890 <= int(response["Retry-After"]) <= 900
    # While refused, even the right password is not checked from this address.
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 429 and "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The owner, from another address, logs in at once.
    owner = Client(REMOTE_ADDR="10.9.9.9")
    assert login(owner, "alice", PASSWORD).status_code == 302
    assert owner.session["_auth_user_id"] == str(alice.pk)


def test_an_attacker_cannot_lock_the_owner_out(alice, monkeypatch):
    """Attacker at address A fails 20 times: A is refused, the owner at B logs in at once."""
    waits = []
    monkeypatch.setattr(ratelimit, "pause", waits.append)
    attacker = Client(REMOTE_ADDR="198.51.100.66")
    statuses = [login(attacker, "alice", f"guess {n}").status_code for n in range(20)]
    assert statuses[:4] == [200] * 4 and set(statuses[4:]) == {429}
    owner = Client(REMOTE_ADDR="203.0.113.10")
    assert login(owner, "alice", PASSWORD).status_code == 302
    assert owner.session["_auth_user_id"] == str(alice.pk) and waits == []


def test_many_addresses_on_one_account_only_slow_it_down(alice, monkeypatch, settings):
    """Failures on one account from many addresses add a growing, bounded delay and never
    refuse: the owner still logs in."""
    settings.NEWSDESK_LOGIN_SLOWDOWN_AFTER = 10
    settings.NEWSDESK_LOGIN_MAX_DELAY = 1.0
    waits = []
    monkeypatch.setattr(ratelimit, "pause", waits.append)
    for n in range(40):  # 4 guesses from each of 10 addresses: under every per-address limit
        response = login(Client(REMOTE_ADDR=f"192.0.2.{n // 4 + 1}"), "alice", f"guess {n}")
        assert response.status_code == 200 and "Too many" not in response.content.decode()
    assert waits[:4] == [0.25, 0.5, 1.0, 1.0] and max(waits) == 1.0 and len(waits) == 30
    owner = Client(REMOTE_ADDR="203.0.113.10")
    assert login(owner, "alice", PASSWORD).status_code == 302
    assert waits[-1] == 1.0  # slowed, not locked out


def test_login_rate_limit_per_address(settings, alice):
    settings.NEWSDESK_LOGIN_FAILURES_PER_IP = 3
    client = Client(REMOTE_ADDR="203.0.113.5")
    for name in ("u1", "u2"):
        login(client, name, "wrong")
    response = login(client, "u3", "wrong")
    assert "Too many failed login attempts" in response.content.decode() and response.status_code == 429
    assert "Too many" in login(client, "alice", PASSWORD).content.decode()
    assert login(Client(REMOTE_ADDR="203.0.113.6"), "alice", PASSWORD).status_code == 302


def test_successful_login_clears_username_failures(client, alice):
    for _ in range(4):
        login(client, "alice", "wrong")
    assert login(client, "alice", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(4):
        assert "Too many" not in login(client, "alice", "wrong").content.decode()


def test_client_ip_trusts_only_configured_proxies(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert ratelimit.client_ip(request) == "10.0.0.1"
    settings.NEWSDESK_PROXY_COUNT = 1
    assert ratelimit.client_ip(request) == "198.51.100.7"
    v6 = RequestFactory().get("/", REMOTE_ADDR="2001:db8::1")
    settings.NEWSDESK_PROXY_COUNT = 0
    assert ratelimit.client_ip(v6) == "2001:db8::/64"


def test_wait_text():
    assert ratelimit.wait_text(30) == "1 minute"
    assert ratelimit.wait_text(900) == "15 minutes"
    assert ratelimit.wait_text(3 * 3600) == "3 hours"


def test_header_links(alice):
    request = RequestFactory().get("/articles/3/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    html = render_to_string("accounts/_header_links.html", {"user": request.user}, request=request)
    assert 'href="/accounts/login/?next=/articles/3/"' in html and "Sign up" in html
    request.user = alice
    html = render_to_string("accounts/_header_links.html", {"user": alice}, request=request)
    assert 'action="/accounts/logout/"' in html and "csrfmiddlewaretoken" in html and "alice" in html


def test_moderators_group_and_blocking(alice):
    group = Group.objects.get(name="moderators")
    assert group.permissions.filter(codename="moderate_comment").exists()
    assert not is_blocked(alice)
    set_blocked(alice, True, reason="spam")
    assert is_blocked(alice)
    assert Profile.objects.get(user=alice).blocked_at is not None
    set_blocked(alice, False)
    assert not is_blocked(alice)


def test_admin_blocks_users(client, alice):
    admin = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(admin)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "block_users", "_selected_action": [alice.pk, admin.pk]},
    )
    assert response.status_code == 302
    assert is_blocked(alice) and not is_blocked(admin)
    assert Profile.objects.get(user=alice).blocked_by == admin
    assert client.get(reverse("admin:accounts_profile_changelist") + "?is_blocked__exact=1").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_login_limit_works_with_a_shared_database_cache(settings, alice):
    """The limiter needs only add/incr/get, so Django's database cache (shared by all
    processes, no extra service) works as its store."""
    from django.core.management import call_command

    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "test_ratelimit"},
    }
    settings.NEWSDESK_RATELIMIT_CACHE = "ratelimit"
    call_command("createcachetable", "test_ratelimit", verbosity=0)
    client = Client()
    for _ in range(5):
        response = login(client, "alice", "wrong")
    assert "Too many failed login attempts" in response.content.decode()
    from django.core.cache import caches

    ident = ratelimit.client_user("127.0.0.1", "alice")
    assert caches["ratelimit"].get(ratelimit._key(ratelimit.login_client_user_rule(), ident)) == 5
    assert caches["ratelimit"].get(ratelimit._key(ratelimit.login_user_rule(), "alice")) == 5


HTTPS_PROBE = """
import json, django
from django.conf import settings
django.setup()
settings.STORAGES = {**settings.STORAGES, "staticfiles": {  # no collectstatic manifest here
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
from django.test import Client
response = Client(REMOTE_ADDR="10.0.0.2").get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https",
                                              HTTP_X_FORWARDED_FOR="198.51.100.1")
cookie = response.cookies["csrftoken"]
print(json.dumps({"status": response.status_code, "hsts": response.get("Strict-Transport-Security"),
                  "secure_cookie": bool(cookie["secure"])}))
"""


@pytest.mark.parametrize("origin", ["https://news.example.org", "http://news.example.org"])
def test_https_origin_sets_hsts_and_secure_cookies(origin, tmp_path):
    """Settings come from the environment at start, so each case is a process of its own:
    behind a proxy that says the request came over HTTPS (X-Forwarded-Proto, as nginx
    sets it), an https origin gets HSTS without subdomains and Secure cookies; a plain
    http origin gets neither."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsdesk.settings",
        "NEWSDESK_DATA_DIR": str(tmp_path),
        "NEWSDESK_CSRF_TRUSTED_ORIGINS": origin,
        "NEWSDESK_PROXY_COUNT": "1",
        "NEWSDESK_ALLOWED_HOSTS": "testserver",
        "NEWSDESK_WARM_UP": "0",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", HTTPS_PROBE],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["status"] == 200
    if origin.startswith("https"):
        assert seen["hsts"] == "max-age=31536000" and seen["secure_cookie"]
    else:
        assert seen["hsts"] is None and not seen["secure_cookie"]


def test_counters_hold_for_thousands_of_clients():
    """Django's database cache culled a third of its rows, running counters included, on
    every write past 300 rows: with a few hundred clients the limits forgot them."""
    rule = ratelimit.Rule("many", 3, 600)
    for n in range(700):
        ratelimit.hit(rule, f"client {n}")
    assert [ratelimit.hit(rule, f"client {n}") for n in (0, 350, 699)] == [2, 2, 2]
    assert ratelimit.failures(rule, "client 1") == 1


COUNT_ELSEWHERE = """
import django
django.setup()
from newsdesk.accounts import ratelimit
for _ in range(3):
    ratelimit.hit(ratelimit.Rule("shared", 10, 600), "client 9")
"""


def test_counters_are_shared_by_the_processes_of_the_machine(settings):
    """Without Redis the counters live in files of the data directory: a web process
    sees what another counted, also after Django closed its caches at a request's end."""
    import subprocess
    import sys

    from django.core.signals import request_finished

    if "Redis" in settings.CACHES[settings.NEWSDESK_RATELIMIT_CACHE]["BACKEND"]:
        pytest.skip("Redis shares the counters itself")
    rule = ratelimit.Rule("shared", 10, 600)
    assert ratelimit.hit(rule, "client 9") == 1
    request_finished.send(sender=None)
    subprocess.run([sys.executable, "-c", COUNT_ELSEWHERE], check=True, timeout=120)
    assert ratelimit.hit(rule, "client 9") == 5
    assert ratelimit.failures(rule, "client 9") == 5


def test_sessions_are_read_as_djangos_database_store_reads_them(settings):
    """newsdesk.accounts.sessions reads the row with a plain statement; what it finds must
    be what Django's store finds: the data of an unexpired session, nothing otherwise."""
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore as DjangoStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from newsdesk.accounts.sessions import SessionStore

    settings.SESSION_ENGINE = "newsdesk.accounts.sessions"  # the default; Redis, where set, holds them instead
    made = SessionStore()
    made["reader"] = "alice"
    made.create()
    assert SessionStore(made.session_key).load() == {"reader": "alice"}
    Session.objects.filter(session_key=made.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    for store in (SessionStore, DjangoStore):
        expired = store(made.session_key)
        assert expired.load() == {} and expired.session_key is None, store
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None
    # Signed in and out through the site as before.
    get_user_model().objects.create_user("sessions-reader", password="sessions-password-9")
    client = Client()
    assert client.login(username="sessions-reader", password="sessions-password-9")
    assert client.get(reverse("accounts:profile")).status_code == 200
    client.logout()
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_the_signed_in_reader_is_read_as_djangos_backend_reads_them(alice):
    """newsdesk.accounts.backends reads the user with a plain statement: the same user,
    every field, as Django's ModelBackend; nobody for an inactive or unknown account."""
    from django.contrib.auth.backends import ModelBackend as DjangoBackend

    from newsdesk.accounts.backends import ModelBackend

    alice.first_name, alice.is_staff = "Alice", True
    alice.save()
    ours, django = ModelBackend().get_user(alice.pk), DjangoBackend().get_user(alice.pk)
    fields = [f.attname for f in User._meta.concrete_fields]
    assert [getattr(ours, name) for name in fields] == [getattr(django, name) for name in fields]
    assert ours.get_session_auth_hash() == django.get_session_auth_hash()
    assert ModelBackend().get_user(alice.pk + 1000) is None
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert ModelBackend().get_user(alice.pk) is None and DjangoBackend().get_user(alice.pk) is None


@pytest.mark.parametrize("engine", ["newsdesk.accounts.sessions", "newsdesk.accounts.cache_sessions"])
def test_a_session_of_djangos_former_backend_stays_signed_in(engine, settings, alice):
    """Sessions signed in before the site's own backend name Django's ModelBackend, no
    longer listed: they are read as the site's, so the change signs nobody out. A
    session naming any other backend is still refused, as Django refuses it."""
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    settings.SESSION_ENGINE = engine
    store = import_module(engine).SessionStore

    def session_of(backend: str) -> Client:
        session = store()
        session.update({SESSION_KEY: str(alice.pk), BACKEND_SESSION_KEY: backend})
        session[HASH_SESSION_KEY] = alice.get_session_auth_hash()
        session.create()
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
        return client

    former = session_of("django.contrib.auth.backends.ModelBackend")
    page = former.get(reverse("accounts:profile"))
    assert page.status_code == 200 and page.context["user"] == alice
    assert (
        session_of("django.contrib.auth.backends.RemoteUserBackend").get(reverse("accounts:profile")).status_code == 302
    )
    # A new sign-in names the site's backend.
    client = Client()
    assert login(client, "alice", PASSWORD).status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "newsdesk.accounts.backends.ModelBackend"
