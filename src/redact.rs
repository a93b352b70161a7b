//! Credentials out of URLs: the one place that decides what a URL looks
//! like once its user and password are removed. Everything reqlock shows,
//! caches or writes (messages, cache keys, lockfiles, a child pip's argv)
//! goes through here; only a request, or a child pip's environment, sees
//! the credentials.

use reqwest::Url;

/// `url` without user and password.
pub fn url(url: &Url) -> Url {
    let mut public = url.clone();
    // Both setters only fail for URLs that cannot have credentials anyway.
    let _ = public.set_username("");
    let _ = public.set_password(None);
    public
}

/// `https://user:token@host/simple` → `https://host/simple`, for URL-like
/// text that is kept as written otherwise (a lockfile repeats the user's
/// spelling; a message names what the user gave, even when it does not
/// parse as a URL). Text without `://` is returned as it is.
pub fn text(text: &str) -> String {
    let Some(scheme_end) = text.find("://").map(|index| index + 3) else {
        return text.to_string();
    };
    let authority_end = text[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |index| scheme_end + index);
    match text[scheme_end..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &text[..scheme_end], &text[scheme_end + at + 1..]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_the_spelling_and_drops_the_userinfo() {
        assert_eq!(
            text("https://u:p@host.invalid/simple?a=1"),
            "https://host.invalid/simple?a=1"
        );
        assert_eq!(text("https://host.invalid/a@b"), "https://host.invalid/a@b");
        assert_eq!(
            text("https://u@p@host.invalid"),
            "https://host.invalid",
            "the last @ of the authority ends the userinfo"
        );
        assert_eq!(text("./wheels"), "./wheels");
        assert_eq!(text("not a url: u:p@x"), "not a url: u:p@x");
    }

    #[test]
    fn url_drops_user_and_password() {
        let parsed = Url::parse("https://user:secret@host.invalid/simple/").expect("valid URL");
        assert_eq!(url(&parsed).as_str(), "https://host.invalid/simple/");
    }
}
