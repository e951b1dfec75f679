//! The Open Platform's token API's vocabulary: its errors, a grant, a
//! profile and its language. The rules (redeem a code, refresh, check, read
//! the profile) are operations on the Emulator: `crate::ops::tokens`.

/// The Open Platform's errors (its global error codes) and their texts.
/// Texts marked "assumed" were not seen in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("invalid appsecret")]
    InvalidAppsecret,
    #[error("invalid appid")]
    InvalidAppid,
    #[error("invalid grant_type")]
    InvalidGrantType,
    #[error("invalid code")]
    InvalidCode,
    #[error("code been used")]
    CodeUsed,
    /// assumed text
    #[error("code expired")]
    CodeExpired,
    #[error("invalid refresh_token")]
    InvalidRefreshToken,
    /// assumed text
    #[error("refresh_token expired")]
    RefreshTokenExpired,
    #[error("invalid access_token")]
    InvalidAccessToken,
    /// assumed text
    #[error("access_token expired")]
    AccessTokenExpired,
    #[error("invalid openid")]
    InvalidOpenid,
    #[error("api unauthorized")]
    ApiUnauthorized,
    #[error("access_token missing")]
    MissingAccessToken,
    #[error("appid missing")]
    MissingAppid,
    #[error("refresh_token missing")]
    MissingRefreshToken,
    #[error("appsecret missing")]
    MissingSecret,
    #[error("missing code")]
    MissingCode,
    #[error("missing openid")]
    MissingOpenid,
}

impl TokenError {
    pub fn errcode(self) -> i32 {
        match self {
            TokenError::InvalidAppsecret => 40125,
            TokenError::InvalidAppid => 40013,
            TokenError::InvalidGrantType => 40002,
            TokenError::InvalidCode => 40029,
            TokenError::CodeUsed => 40163,
            TokenError::CodeExpired => 42003,
            TokenError::InvalidRefreshToken => 40030,
            TokenError::RefreshTokenExpired => 42002,
            TokenError::InvalidAccessToken => 40014,
            TokenError::AccessTokenExpired => 42001,
            TokenError::InvalidOpenid => 40003,
            TokenError::ApiUnauthorized => 48001,
            TokenError::MissingAccessToken => 41001,
            TokenError::MissingAppid => 41002,
            TokenError::MissingRefreshToken => 41003,
            TokenError::MissingSecret => 41004,
            TokenError::MissingCode => 41008,
            TokenError::MissingOpenid => 41009,
        }
    }
}

/// What access_token and refresh_token answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub openid: String,
    pub scope: String,
    /// Always for the website login; for web authorization only with
    /// `snsapi_userinfo` and an app bound to an owner.
    pub unionid: Option<String>,
    /// Web authorization in snapshot mode (`is_snapshotuser: 1`).
    pub is_snapshotuser: bool,
}

/// userinfo's `lang`; the Open Platform's default is `en`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    ZhCn,
    ZhTw,
}

/// What userinfo answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub openid: String,
    pub nickname: String,
    pub sex: u8,
    pub province: String,
    pub city: String,
    pub country: String,
    pub headimgurl: String,
    pub unionid: Option<String>,
}

/// Place names in en / zh_CN / zh_TW. An account's value found in any
/// column is answered in the requested one; others are answered as written.
const PLACES: &[[&str; 3]] = &[
    ["CN", "中国", "中國"],
    ["China", "中国", "中國"],
    ["Guangdong", "广东", "廣東"],
    ["Shenzhen", "深圳", "深圳"],
    ["Guangzhou", "广州", "廣州"],
    ["Beijing", "北京", "北京"],
    ["Shanghai", "上海", "上海"],
    ["Zhejiang", "浙江", "浙江"],
    ["Hangzhou", "杭州", "杭州"],
    ["Jiangsu", "江苏", "江蘇"],
    ["Nanjing", "南京", "南京"],
    ["Sichuan", "四川", "四川"],
    ["Chengdu", "成都", "成都"],
    ["Hong Kong", "香港", "香港"],
    ["Taiwan", "台湾", "臺灣"],
    ["Taipei", "台北", "臺北"],
];

impl Lang {
    /// userinfo's `lang` parameter; anything else is `en`.
    pub fn parse(lang: Option<&str>) -> Lang {
        match lang {
            Some("zh_CN") => Lang::ZhCn,
            Some("zh_TW") => Lang::ZhTw,
            _ => Lang::En,
        }
    }

    pub(crate) fn place(self, value: &str) -> String {
        let column = match self {
            Lang::En => 0,
            Lang::ZhCn => 1,
            Lang::ZhTw => 2,
        };
        PLACES
            .iter()
            .find(|row| row.iter().any(|name| name.eq_ignore_ascii_case(value)))
            .map_or_else(|| value.to_owned(), |row| row[column].to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn places_are_localized() {
        assert_eq!(Lang::parse(Some("zh_CN")).place("Guangdong"), "广东");
        assert_eq!(Lang::parse(Some("zh_TW")).place("Guangdong"), "廣東");
        assert_eq!(Lang::parse(None).place("广东"), "Guangdong");
        assert_eq!(Lang::parse(Some("xx")).place("CN"), "CN");
        assert_eq!(Lang::parse(Some("zh_CN")).place("CN"), "中国");
        assert_eq!(Lang::parse(Some("zh_CN")).place("Atlantis"), "Atlantis");
    }
}
