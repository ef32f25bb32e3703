//! The message catalogues: every word a user reads, in Simplified Chinese
//! (the default) and English. One catalogue per language, a flat JSON
//! object of key → text under `spatial/i18n/`, compiled in; the service
//! serves the same files to the web pages (`GET /i18n`), so Rust and
//! JavaScript say the same thing. Texts may hold `{name}` placeholders.
//!
//! Codes stay stable in the API (`street_vending`); only what is shown is
//! translated ([`category`], [`t`]).
//!
//! ```
//! use gridgov_spatial::i18n::{Lang, t, tf};
//! assert_eq!(t(Lang::Zh, "kpi.overdue"), "超期");
//! assert_eq!(tf(Lang::En, "planner.version", &[("v", &7)]), "Version 7");
//! assert_eq!(Lang::negotiate(None, Some("en-US,en;q=0.9")), Lang::En);
//! assert_eq!(Lang::negotiate(None, None), Lang::Zh);
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;

/// A language of the user interface.
///
/// ```
/// use gridgov_spatial::i18n::Lang;
/// assert_eq!(Lang::parse("zh"), Some(Lang::Zh));
/// assert_eq!(Lang::En.code(), "en");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    Zh,
    /// English.
    En,
}

/// Every language, the default first.
pub const LANGS: [Lang; 2] = [Lang::Zh, Lang::En];

impl Lang {
    /// The BCP 47 tag: `zh-CN` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// A language from a tag (`zh`, `zh-CN`, `zh-Hans`, `en`, `en-GB`, any
    /// case); `None` for a language there is no catalogue for.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language to answer in: `?lang=` when it names one, else the
    /// best of the `Accept-Language` header's choices (by `q`, ties in
    /// order) there is a catalogue for, else Chinese.
    pub fn negotiate(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = query.and_then(Lang::parse) {
            return l;
        }
        let Some(header) = accept_language else {
            return Lang::Zh;
        };
        let mut best: Option<(f64, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("");
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Lang::parse(tag)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, l));
            }
        }
        best.map_or(Lang::Zh, |(_, l)| l)
    }

    /// The catalogue's JSON text, as compiled in.
    pub fn catalogue_json(self) -> &'static str {
        match self {
            Lang::Zh => include_str!("../i18n/zh-CN.json"),
            Lang::En => include_str!("../i18n/en.json"),
        }
    }
}

type Catalogue = HashMap<String, String>;

fn catalogue(lang: Lang) -> &'static Catalogue {
    static ZH: OnceLock<Catalogue> = OnceLock::new();
    static EN: OnceLock<Catalogue> = OnceLock::new();
    let cell = match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    };
    // The files are part of the source and checked by this module's
    // tests; a broken one is a build that cannot pass them.
    cell.get_or_init(|| serde_json::from_str(lang.catalogue_json()).unwrap_or_default())
}

/// Whether `key` is in the catalogues.
///
/// ```
/// use gridgov_spatial::i18n::{Lang, has};
/// assert!(has(Lang::Zh, "kpi.open"));
/// assert!(!has(Lang::En, "no.such.key"));
/// ```
pub fn has(lang: Lang, key: &str) -> bool {
    catalogue(lang).contains_key(key)
}

/// Every key of a catalogue, sorted.
///
/// ```
/// use gridgov_spatial::i18n::{Lang, keys};
/// assert!(keys(Lang::Zh).contains(&"kpi.open"));
/// ```
pub fn keys(lang: Lang) -> Vec<&'static str> {
    let mut k: Vec<&str> = catalogue(lang).keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

/// The text of `key`, or `None` when the catalogue has no such key.
///
/// ```
/// use gridgov_spatial::i18n::{Lang, text};
/// assert_eq!(text(Lang::En, "kpi.open"), Some("Open"));
/// assert_eq!(text(Lang::Zh, "no.such.key"), None);
/// ```
pub fn text(lang: Lang, key: &str) -> Option<&'static str> {
    catalogue(lang).get(key).map(String::as_str)
}

/// The text of `key`; a key missing from the catalogue shows as itself
/// (and fails the catalogue tests).
///
/// ```
/// use gridgov_spatial::i18n::{Lang, t};
/// assert_eq!(t(Lang::En, "kpi.open"), "Open");
/// ```
pub fn t(lang: Lang, key: &str) -> &str {
    match catalogue(lang).get(key) {
        Some(s) => s.as_str(),
        None => key,
    }
}

/// The text of `key` with its `{name}` placeholders filled.
///
/// ```
/// use gridgov_spatial::i18n::{Lang, tf};
/// assert_eq!(tf(Lang::Zh, "planner.published", &[("v", &3)]), "已发布版本 3");
/// ```
pub fn tf(lang: Lang, key: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut s = t(lang, key).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), &value.to_string());
    }
    s
}

/// What to show for a code of a kind (`category`, `status`, `role`, …):
/// its catalogue text, or for a code the catalogue does not know (an
/// imported category) the code with its underscores as spaces.
///
/// ```
/// use gridgov_spatial::i18n::{Lang, label};
/// assert_eq!(label(Lang::Zh, "status", "closed"), "已结案");
/// assert_eq!(label(Lang::Zh, "category", "pigeons_on_roof"), "pigeons on roof");
/// ```
pub fn label<'a>(lang: Lang, kind: &str, code: &'a str) -> Cow<'a, str> {
    match catalogue(lang).get(&format!("{kind}.{code}")) {
        Some(s) => Cow::Owned(s.clone()),
        None if code.contains('_') => Cow::Owned(code.replace('_', " ")),
        None => Cow::Borrowed(code),
    }
}

/// The name of an incident category.
///
/// ```
/// use gridgov_spatial::i18n::{Lang, category};
/// assert_eq!(category(Lang::Zh, "street_vending"), "占道经营");
/// assert_eq!(category(Lang::En, "street_vending"), "street vending");
/// ```
pub fn category(lang: Lang, code: &str) -> Cow<'_, str> {
    label(lang, "category", code)
}

/// The placeholders (`{name}`) of a text, sorted.
///
/// ```
/// use gridgov_spatial::i18n::placeholders;
/// assert_eq!(placeholders("{b} and {a}"), ["a", "b"]);
/// ```
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        rest = &rest[i + 1..];
        match rest.find('}') {
            Some(j)
                if rest[..j]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                out.push(&rest[..j]);
                rest = &rest[j + 1..];
            }
            _ => {}
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_parse_and_hold_the_same_keys() {
        let parsed: Vec<Catalogue> = LANGS
            .iter()
            .map(|l| serde_json::from_str(l.catalogue_json()).expect("catalogue is valid JSON"))
            .collect();
        let zh: Vec<&str> = keys(Lang::Zh);
        let en: Vec<&str> = keys(Lang::En);
        assert!(zh.len() > 100, "{} keys", zh.len());
        assert_eq!(parsed[0].len(), zh.len());
        let missing_en: Vec<_> = zh.iter().filter(|k| !has(Lang::En, k)).collect();
        let missing_zh: Vec<_> = en.iter().filter(|k| !has(Lang::Zh, k)).collect();
        assert!(missing_en.is_empty(), "missing from en: {missing_en:?}");
        assert!(missing_zh.is_empty(), "missing from zh-CN: {missing_zh:?}");
    }

    #[test]
    fn every_text_has_the_same_placeholders_in_both_languages() {
        for k in keys(Lang::Zh) {
            assert_eq!(
                placeholders(t(Lang::Zh, k)),
                placeholders(t(Lang::En, k)),
                "placeholders of {k}"
            );
            assert!(!t(Lang::Zh, k).trim().is_empty(), "{k} is empty in zh-CN");
        }
    }

    #[test]
    fn chinese_texts_are_chinese() {
        // A text copied from the English catalogue by mistake: any key
        // with a Latin word and no CJK character in zh-CN (codes, units
        // and placeholders aside) is one.
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        let allowed = [
            "lang.name",
            "kpi.none",
            "report.sep",
            "event.step",
            "open311.service_name",
            "card.road",
            "planner.version.line",
        ];
        for k in keys(Lang::Zh) {
            if allowed.contains(&k) {
                continue;
            }
            assert!(
                cjk(t(Lang::Zh, k)),
                "{k} = {:?} has no Chinese",
                t(Lang::Zh, k)
            );
        }
    }

    #[test]
    fn accept_language_picks_the_best_supported_choice() {
        assert_eq!(
            Lang::negotiate(None, Some("fr-FR, en;q=0.5, zh;q=0.8")),
            Lang::Zh
        );
        assert_eq!(Lang::negotiate(None, Some("fr, en-GB;q=0.3")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("fr, de")), Lang::Zh);
        assert_eq!(Lang::negotiate(None, Some("en;q=0, zh-TW")), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), Some("en")), Lang::En);
        assert_eq!(Lang::negotiate(Some("zh_CN"), None), Lang::Zh);
    }

    #[test]
    fn unknown_codes_show_as_words_and_missing_keys_as_themselves() {
        assert_eq!(label(Lang::En, "category", "x_y"), "x y");
        assert_eq!(t(Lang::Zh, "no.such"), "no.such");
        assert_eq!(
            tf(Lang::En, "case.overdue", &[("h", &"2.5")]),
            "overdue by 2.5 h"
        );
    }
}
