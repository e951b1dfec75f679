"""The site's own pages: a login link, the profile, a login-error page."""

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import escape

PAGE = '<!doctype html><meta charset="utf-8"><title>{title}</title>{body}'


def page(title, body, status=200):
    return HttpResponse(PAGE.format(title=title, body=body), status=status)


def social_backend():
    return "weixinapp" if settings.IN_WECHAT else "weixin"


def home(request):
    if settings.LIBRARY == "social":
        # social-auth-app-django starts a login by POST only (CSRF-protected).
        form = (
            f'<form method="post" action="{reverse("social:begin", args=[social_backend()])}">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{get_token(request)}">'
            '<button id="login" type="submit">Log in with WeChat</button></form>'
        )
        return page("Django site", form)
    return page("Django site", '<a id="login" href="/accounts/weixin/login/">Log in with WeChat</a>')


def wechat_nickname(user):
    """The nickname the library stored from /sns/userinfo."""
    if settings.LIBRARY == "social":
        # WeixinOAuth2.EXTRA_DATA keeps the nickname as extra_data["username"].
        return user.social_auth.get(provider=social_backend()).extra_data["username"]
    from allauth.socialaccount.models import SocialAccount

    return SocialAccount.objects.get(user=user, provider="weixin").extra_data["nickname"]


def profile(request):
    if not request.user.is_authenticated:
        return page("Profile", '<p id="anonymous">Not logged in</p>', status=401)
    nickname = escape(wechat_nickname(request.user))
    return page("Profile", f'<p>Logged in as <span id="nickname">{nickname}</span></p>')


def login_error(request):
    return page("Login failed", '<p id="failed">WeChat login failed</p>', status=401)
