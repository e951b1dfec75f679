//! The Open Platform's token API as domain operations: redeem a code,
//! refresh, check an access_token, read the profile. The web floor parses
//! the query and writes `{"errcode","errmsg"}`; the rules live here (the
//! vocabulary: `crate::openplatform::tokens`).

use std::time::SystemTime;

use crate::config::Account;
use crate::emulator::Emulator;
use crate::openplatform::identity;
use crate::openplatform::tokens::{Lang, TokenError, TokenGrant, UserInfo};
use crate::random::random_token;
use crate::store::{
    AccessGrant, Flow, Grant, Lookup, RefreshGrant, ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL,
};

impl Emulator {
    /// Trades a code for tokens. The app is authenticated by `secret`; the
    /// code is single use and bound to its app.
    pub fn redeem_code(
        &self,
        appid: &str,
        secret: &str,
        code: &str,
    ) -> Result<TokenGrant, TokenError> {
        self.authenticated_app(appid, Some(secret))?;
        let now = self.clock().now();
        // Mark used atomically with the check: two racing redemptions get one
        // token and one 40163. Another app's code is not touched.
        let issued = match self.store().codes.update(code, now, |c| {
            let was_used = c.used;
            if c.appid == appid {
                c.used = true;
            }
            (was_used, c.clone())
        }) {
            Lookup::Missing => return Err(TokenError::InvalidCode),
            Lookup::Live((_, c)) | Lookup::Expired((_, c)) if c.appid != appid => {
                return Err(TokenError::InvalidCode)
            }
            Lookup::Expired(_) => return Err(TokenError::CodeExpired),
            Lookup::Live((true, _)) => return Err(TokenError::CodeUsed),
            Lookup::Live((false, c)) => c,
        };
        let grant = Grant {
            openid: identity::openid(&issued.account_id, &issued.appid),
            appid: issued.appid,
            account_id: issued.account_id,
            scope: issued.scope,
            flow: issued.flow,
        };
        let access = random_token(64);
        let refresh = random_token(64);
        self.store().access_tokens.insert(
            access.clone(),
            AccessGrant {
                grant: grant.clone(),
                refresh_token: refresh.clone(),
            },
            now + ACCESS_TOKEN_TTL,
        );
        self.store().refresh_tokens.insert(
            refresh.clone(),
            RefreshGrant {
                grant: grant.clone(),
                access_token: access.clone(),
            },
            now + REFRESH_TOKEN_TTL,
        );
        Ok(self.token_grant(&grant, access, refresh))
    }

    /// As the Open Platform documents it: while the last access_token lives,
    /// refreshing extends it by 2 hours and returns it again; once it has
    /// expired, refreshing mints a new one. The refresh_token stays the same
    /// and keeps its 30-day lifetime.
    pub fn refresh_access(&self, appid: &str, refresh: &str) -> Result<TokenGrant, TokenError> {
        self.authenticated_app(appid, None)?;
        let now = self.clock().now();
        let held = match self.store().refresh_tokens.get(refresh, now) {
            Lookup::Missing => return Err(TokenError::InvalidRefreshToken),
            Lookup::Live(r) | Lookup::Expired(r) if r.grant.appid != appid => {
                return Err(TokenError::InvalidRefreshToken)
            }
            Lookup::Expired(_) => return Err(TokenError::RefreshTokenExpired),
            Lookup::Live(r) => r,
        };
        let access = match self.store().access_tokens.get(&held.access_token, now) {
            Lookup::Live(_) => held.access_token.clone(),
            Lookup::Expired(_) | Lookup::Missing => {
                let fresh = random_token(64);
                // A refresh_token expired meanwhile stays expired: update()
                // changes it in place without touching its expiry.
                self.store()
                    .refresh_tokens
                    .update(refresh, now, |r| r.access_token = fresh.clone());
                fresh
            }
        };
        self.store().access_tokens.insert(
            access.clone(),
            AccessGrant {
                grant: held.grant.clone(),
                refresh_token: refresh.to_owned(),
            },
            now + ACCESS_TOKEN_TTL,
        );
        Ok(self.token_grant(&held.grant, access, refresh.to_owned()))
    }

    /// `/sns/auth`: whether `access_token` is live and for `openid`.
    pub fn check_access(&self, access_token: &str, openid: &str) -> Result<(), TokenError> {
        self.grant_for(access_token, openid, self.clock().now())
            .map(|_| ())
    }

    /// `/sns/userinfo`: the profile behind a live access_token.
    pub fn user_info(
        &self,
        access_token: &str,
        openid: &str,
        lang: Lang,
    ) -> Result<UserInfo, TokenError> {
        let grant = self.grant_for(access_token, openid, self.clock().now())?;
        let allowed = grant
            .scope
            .split(',')
            .any(|s| matches!(s.trim(), "snsapi_login" | "snsapi_userinfo"));
        // A snapshot page's person is virtual: nothing to tell.
        if !allowed || grant.flow == (Flow::WebAuthorization { snapshot: true }) {
            return Err(TokenError::ApiUnauthorized);
        }
        // An account removed from the config since the login is gone.
        let account: Account = self
            .config()
            .account(&grant.account_id)
            .ok_or(TokenError::InvalidOpenid)?;
        // Web authorization's userinfo has answered no gender and no
        // region since 2021-10-20, unless the full profile is switched on.
        let private = matches!(grant.flow, Flow::WebAuthorization { .. })
            && !self.client_settings().full_profile;
        let place = |value: &str| {
            if private {
                String::new()
            } else {
                lang.place(value)
            }
        };
        Ok(UserInfo {
            headimgurl: self.headimgurl(&account),
            unionid: self.unionid(&grant),
            openid: grant.openid,
            nickname: account.nickname,
            sex: if private { 0 } else { account.sex },
            province: place(&account.province),
            city: place(&account.city),
            country: place(&account.country),
        })
    }

    /// The app named by `appid`, authenticated by `secret` when given.
    fn authenticated_app(&self, appid: &str, secret: Option<&str>) -> Result<(), TokenError> {
        let app = self.app(appid).ok_or(TokenError::InvalidAppid)?;
        match secret {
            Some(secret) if !self.secret_matches(&app, secret) => Err(TokenError::InvalidAppsecret),
            _ => Ok(()),
        }
    }

    /// The grant behind `access_token` if it is live and for `openid`.
    fn grant_for(
        &self,
        access_token: &str,
        openid: &str,
        now: SystemTime,
    ) -> Result<Grant, TokenError> {
        let grant = match self.store().access_tokens.get(access_token, now) {
            Lookup::Missing => return Err(TokenError::InvalidAccessToken),
            Lookup::Expired(_) => return Err(TokenError::AccessTokenExpired),
            Lookup::Live(a) => a.grant,
        };
        if grant.openid != openid {
            return Err(TokenError::InvalidOpenid);
        }
        Ok(grant)
    }

    /// The person's unionid for the app's owner. Every website app sits on
    /// an Open Platform account, so it always has one; an Official Account
    /// only when bound to one (`owner` set), and its token tells it only
    /// for `snsapi_userinfo`.
    fn unionid(&self, grant: &Grant) -> Option<String> {
        let app = self.config().app(&grant.appid).cloned();
        if let Flow::WebAuthorization { .. } = grant.flow {
            app.as_ref().filter(|app| !app.owner.is_empty())?;
        }
        let owner = app
            .map(|app| identity::owner(&app).to_owned())
            .unwrap_or_else(|| grant.appid.clone());
        Some(identity::unionid(&grant.account_id, &owner))
    }

    fn token_grant(
        &self,
        grant: &Grant,
        access_token: String,
        refresh_token: String,
    ) -> TokenGrant {
        let web = matches!(grant.flow, Flow::WebAuthorization { .. });
        TokenGrant {
            access_token,
            expires_in: ACCESS_TOKEN_TTL.as_secs(),
            refresh_token,
            openid: grant.openid.clone(),
            scope: grant.scope.clone(),
            unionid: self
                .unionid(grant)
                .filter(|_| !web || grant.scope == crate::openplatform::oauth2::SNSAPI_USERINFO),
            is_snapshotuser: grant.flow == (Flow::WebAuthorization { snapshot: true }),
        }
    }
}
