"""Environment parsing: the defaults a first run gets, and the refusals production needs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from timelapser import envparse

REPO = Path(__file__).resolve().parents[2]


def test_empty_database_url_means_sqlite_in_the_data_dir(tmp_path):
    config = envparse.database_config("", tmp_path / "db.sqlite3")

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "db.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["timeout"] >= 5


def test_postgres_url_is_parsed_with_persistent_connections(tmp_path):
    config = envparse.database_config("postgres://u:p@db.example:5433/tl", tmp_path / "x")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example", 5433, "tl")
    assert config["CONN_MAX_AGE"] > 0


def test_missing_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        envparse.resolve_secret_key("", tmp_path / "secret_key")


def test_generated_secret_key_file_is_private_and_reused(tmp_path):
    key_file = tmp_path / "secret_key"

    assert envparse.ensure_secret_key_file(key_file) is True
    assert envparse.ensure_secret_key_file(key_file) is False
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(envparse.resolve_secret_key("", key_file)) >= 50
    assert envparse.resolve_secret_key("from-env", key_file) == "from-env"


def test_default_broker_needs_no_server(tmp_path):
    url, options = envparse.broker_config("", tmp_path)

    assert url == "filesystem://"
    assert Path(options["data_folder_in"]).is_dir()


def test_redis_broker_is_taken_as_given(tmp_path):
    url, options = envparse.broker_config("redis://127.0.0.1:6379/0", tmp_path)
    assert url == "redis://127.0.0.1:6379/0"
    assert options["visibility_timeout"] >= 3600


def test_fernet_keys_are_split_newest_first():
    assert envparse.fernet_keys(" new , old ,") == ["new", "old"]


def test_fernet_keys_fall_back_to_the_generated_file_only_when_unset(tmp_path):
    key_file = tmp_path / "secrets_key"
    assert envparse.fernet_keys("", key_file) == []
    key_file.write_text("generated")

    assert envparse.fernet_keys("", key_file) == ["generated"]
    assert envparse.fernet_keys("from-env", key_file) == ["from-env"]


def run_manage(args, env_overrides, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    env.update({"TIMELAPSER_DATA_DIR": str(tmp_path)}, **env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_without_secret_key_does_not_start(tmp_path):
    # Production: a server database through the environment, no SECRET_KEY, no key file.
    result = run_manage(["check"], {"DATABASE_URL": "postgres://postgres@127.0.0.1:1/none"}, tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_a_fresh_clone_runs_commands_with_generated_private_keys(tmp_path):
    data_dir = tmp_path / "data"
    result = run_manage(
        ["makemigrations", "--check", "--dry-run"], {"TIMELAPSER_DATA_DIR": str(data_dir)}, tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
    for name in ("secret_key", "secrets_key"):
        assert (data_dir / name).stat().st_mode & 0o777 == 0o600
    assert data_dir.stat().st_mode & 0o777 == 0o700


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    production = {
        "SECRET_KEY": "a-long-random-production-key-" + "q7Zp" * 12,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "timelapser.example.com",
        "SECURE_SSL_REDIRECT": "true",
        "SESSION_COOKIE_SECURE": "true",
        "CSRF_COOKIE_SECURE": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
    }
    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], production, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("given", "meta_key"),
    [("", ""), ("X-Real-IP", "HTTP_X_REAL_IP"), ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_FOR")],
)
def test_the_trusted_proxy_header_is_named_as_request_meta_has_it(given, meta_key):
    assert envparse.request_meta_key(given) == meta_key


@pytest.mark.parametrize("bad", ["X Real IP", "X-Real-IP;", "Ẋ-Real-IP"])
def test_a_trusted_proxy_header_that_is_no_header_name_refuses_to_start(bad):
    with pytest.raises(ImproperlyConfigured, match="Not a header name"):
        envparse.request_meta_key(bad)


def test_the_trusted_proxy_header_setting_reaches_axes(tmp_path):
    show = "from django.conf import settings as s; print(s.AXES_IPWARE_META_PRECEDENCE_ORDER)"
    behind_nginx = run_manage(
        ["shell", "-c", show], {"TIMELAPSER_TRUSTED_PROXY_HEADER": "X-Real-IP"}, tmp_path
    )
    direct = run_manage(["shell", "-c", show], {"TIMELAPSER_TRUSTED_PROXY_HEADER": ""}, tmp_path)

    assert behind_nginx.stdout.splitlines()[-1] == "('HTTP_X_REAL_IP', 'REMOTE_ADDR')", behind_nginx.stderr
    assert direct.stdout.splitlines()[-1] == "('REMOTE_ADDR',)", direct.stderr
