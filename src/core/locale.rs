//! The language of user-facing messages.

/// Language of the messages a user reads. zh-CN unless configured otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Locale {
    /// Simplified Chinese, the default: the mini-program's users read it.
    #[default]
    ZhCn,
    /// English.
    En,
}

impl Locale {
    /// Parses a BCP 47 tag; only the language part decides (`zh-Hans`, `zh_CN`, `en-US`, ...).
    pub fn parse(tag: &str) -> Option<Locale> {
        let language = tag.split(['-', '_']).next().unwrap_or_default();
        if language.eq_ignore_ascii_case("zh") {
            Some(Locale::ZhCn)
        } else if language.eq_ignore_ascii_case("en") {
            Some(Locale::En)
        } else {
            None
        }
    }

    /// Its tag, as `parse` reads it back.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_language_tags() {
        assert_eq!(Locale::parse("zh-CN"), Some(Locale::ZhCn));
        assert_eq!(Locale::parse("zh_cn"), Some(Locale::ZhCn));
        assert_eq!(Locale::parse("en"), Some(Locale::En));
        assert_eq!(Locale::parse("en-US"), Some(Locale::En));
        assert_eq!(Locale::parse("fr"), None);
        assert_eq!(Locale::parse(""), None);
        for l in [Locale::ZhCn, Locale::En] {
            assert_eq!(Locale::parse(l.tag()), Some(l));
        }
    }
}
