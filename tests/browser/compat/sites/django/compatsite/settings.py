"""One small Django site, two login libraries, each set up as its README says:

- COMPAT_LIBRARY=social: python-social-auth (social-auth-app-django with
  social-auth-core's WeixinOAuth2 backend);
- COMPAT_LIBRARY=allauth: django-allauth's WeChat ("weixin") provider.

Nothing here names wxemu: the libraries' WeChat URLs resolve to it through
/etc/hosts (hosts mode), and requests trusts it through REQUESTS_CA_BUNDLE.
COMPAT_MODE=website (qrconnect) or in_wechat (oauth2/authorize, snsapi_userinfo:
social-core's WeixinOAuth2APP backend, allauth's AUTHORIZE_URL and SCOPE settings).
COMPAT_APPID / COMPAT_SECRET: the app; COMPAT_DB: the SQLite file.
"""

import os

LIBRARY = os.environ["COMPAT_LIBRARY"]
IN_WECHAT = os.environ["COMPAT_MODE"] == "in_wechat"
APPID = os.environ["COMPAT_APPID"]
SECRET = os.environ["COMPAT_SECRET"]

SECRET_KEY = "compat-site-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["site.test"]
ROOT_URLCONF = "compatsite.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["COMPAT_DB"]}}

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
LOGIN_REDIRECT_URL = "/profile"

if LIBRARY == "social":
    # social-auth-app-django's README: the app, the backend, its key and secret.
    INSTALLED_APPS += ["social_django"]
    AUTHENTICATION_BACKENDS = [
        "social_core.backends.weixin.WeixinOAuth2",
        "social_core.backends.weixin.WeixinOAuth2APP",
        "django.contrib.auth.backends.ModelBackend",
    ]
    SOCIAL_AUTH_WEIXIN_KEY = APPID
    SOCIAL_AUTH_WEIXIN_SECRET = SECRET
    # Inside WeChat: the "weixinapp" backend (oauth2/authorize). Its default scope
    # is the website's snsapi_login, which oauth2/authorize refuses (10005), and a
    # SCOPE setting is added to the default unless IGNORE_DEFAULT_SCOPE.
    SOCIAL_AUTH_WEIXINAPP_KEY = APPID
    SOCIAL_AUTH_WEIXINAPP_SECRET = SECRET
    SOCIAL_AUTH_WEIXINAPP_SCOPE = ["snsapi_userinfo"]
    SOCIAL_AUTH_WEIXINAPP_IGNORE_DEFAULT_SCOPE = True
    SOCIAL_AUTH_LOGIN_REDIRECT_URL = "/profile"
    SOCIAL_AUTH_LOGIN_ERROR_URL = "/login-error"
    MIDDLEWARE += ["social_django.middleware.SocialAuthExceptionMiddleware"]
elif LIBRARY == "allauth":
    # django-allauth's quickstart, with the WeChat provider configured in settings.
    INSTALLED_APPS += [
        "allauth",
        "allauth.account",
        "allauth.socialaccount",
        "allauth.socialaccount.providers.weixin",
    ]
    MIDDLEWARE += ["allauth.account.middleware.AccountMiddleware"]
    AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ]
    SOCIALACCOUNT_PROVIDERS = {
        "weixin": {"APPS": [{"client_id": APPID, "secret": SECRET}]},
    }
    if IN_WECHAT:
        # allauth's documented setting for an official account (公众号).
        SOCIALACCOUNT_PROVIDERS["weixin"].update(
            AUTHORIZE_URL="https://open.weixin.qq.com/connect/oauth2/authorize",
            SCOPE=["snsapi_userinfo"],
        )
else:
    raise ValueError(f"COMPAT_LIBRARY must be social or allauth, not {LIBRARY!r}")

# Errors to stderr (the test prints it when a flow fails).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
}
