//! The error table in docs/errors.md states every kind's messages exactly as the core has them.
#![cfg(not(target_arch = "wasm32"))]

use mp_request::core::error::ErrorKind;
use mp_request::core::locale::Locale;

const DOC: &str = include_str!("../docs/errors.md");

#[test]
fn every_kind_is_documented_with_its_messages() {
    let kinds = ErrorKind::ALL;
    for kind in kinds {
        let row = DOC
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", kind.as_str())))
            .unwrap_or_else(|| panic!("no row for {}", kind.as_str()));
        for locale in [Locale::ZhCn, Locale::En] {
            assert!(
                row.contains(kind.message(locale)),
                "{}: {:?} missing",
                kind.as_str(),
                kind.message(locale)
            );
        }
    }
}

#[test]
fn the_circuit_open_messages_are_documented_exactly() {
    use mp_request::core::error::RequestError;
    let open = RequestError::CircuitOpen {
        route: "cloud",
        failures: 12,
        calls: 20,
        retry_in_ms: 4200,
    };
    let doc: String = DOC.split_whitespace().collect::<Vec<_>>().join(" ");
    for locale in [Locale::ZhCn, Locale::En] {
        let message = open.user_message(locale);
        assert!(doc.contains(message.as_ref()), "{message}");
    }
    assert!(doc.contains(&open.to_string()), "{open}");
}
