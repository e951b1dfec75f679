from django.conf import settings
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home),
    path("profile", views.profile),
    path("login-error", views.login_error),
]
if settings.LIBRARY == "social":
    urlpatterns += [path("", include("social_django.urls", namespace="social"))]
else:
    urlpatterns += [path("accounts/", include("allauth.urls"))]
