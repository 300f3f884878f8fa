//! `GET /images/{id}.svg`: a generated cover for each album and show, so that the app shows artwork with no
//! network. Colours and pattern come from the id; the title and artist are written on it.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::{catalog, StandIn};

pub(crate) fn router() -> Router<StandIn> {
    Router::new().route("/images/{file}", get(cover))
}

async fn cover(Path(file): Path<String>) -> Response {
    let Some((title, artist)) = file
        .strip_suffix(".svg")
        .and_then(|id| catalog::get().cover(id))
    else {
        return (StatusCode::NOT_FOUND, "no such image").into_response();
    };
    let svg = draw(&file, &title, &artist);
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        svg,
    )
        .into_response()
}

fn draw(seed: &str, title: &str, artist: &str) -> String {
    let hash = Sha256::digest(seed.as_bytes());
    let hue = u16::from_be_bytes([hash[0], hash[1]]) % 360;
    let hue2 = (hue + 40 + u16::from(hash[2]) % 140) % 360;
    let pattern = match hash[3] % 4 {
        0 => format!(
            r#"<circle cx="{}" cy="{}" r="{}" fill="hsl({hue2},70%,60%)" opacity="0.8"/>"#,
            160 + u16::from(hash[4]) % 320,
            160 + u16::from(hash[5]) % 240,
            90 + u16::from(hash[6]) % 120
        ),
        1 => (0..6)
            .map(|i| {
                format!(
                    r#"<rect x="0" y="{}" width="640" height="28" fill="hsl({hue2},65%,{}%)" opacity="0.7"/>"#,
                    60 + i * 70,
                    40 + i * 6
                )
            })
            .collect(),
        2 => format!(
            r#"<polygon points="320,{} {},520 {},520" fill="hsl({hue2},60%,55%)" opacity="0.85"/>"#,
            60 + u16::from(hash[4]) % 80,
            40 + u16::from(hash[5]) % 120,
            480 + u16::from(hash[6]) % 120
        ),
        _ => (0..4)
            .map(|i| {
                format!(
                    r#"<circle cx="320" cy="300" r="{}" fill="none" stroke="hsl({hue2},70%,65%)" stroke-width="14" opacity="0.8"/>"#,
                    50 + i * 55
                )
            })
            .collect(),
    };
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="640" height="640" viewBox="0 0 640 640">"#,
            r#"<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">"#,
            r#"<stop offset="0" stop-color="hsl({hue},55%,35%)"/><stop offset="1" stop-color="hsl({hue},60%,15%)"/>"#,
            r##"</linearGradient></defs><rect width="640" height="640" fill="url(#g)"/>{pattern}"##,
            r##"<text x="32" y="560" font-family="Helvetica, Arial, sans-serif" font-size="40" font-weight="bold" fill="#fff">{title}</text>"##,
            r##"<text x="32" y="606" font-family="Helvetica, Arial, sans-serif" font-size="28" fill="#fff" opacity="0.85">{artist}</text>"##,
            "</svg>"
        ),
        hue = hue,
        pattern = pattern,
        title = escape(&shorten(title, 26)),
        artist = escape(&shorten(artist, 36)),
    )
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_are_small_escaped_svg() {
        let svg = draw("abc", "Tom & Jerry <Live>", "Søren \"Q\"");
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("Tom &amp; Jerry &lt;Live&gt;"));
        assert!(svg.contains("Søren &quot;Q&quot;"));
        assert!(svg.len() < 3_000, "{}", svg.len());
    }

    #[test]
    fn long_titles_are_shortened() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("a very long album title", 10), "a very lo…");
    }
}
