//! The accounts a stand-in knows. The consent page offers each of them; `/v1/me` answers as the one chosen.

/// A seeded Spotify account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedUser {
    /// Spotify user id (`spotify:user:<id>`).
    pub id: &'static str,
    /// The stable `account_id` Spotify added for account linking.
    pub account_id: &'static str,
    pub display_name: &'static str,
    pub email: &'static str,
    /// ISO 3166-1 alpha-2.
    pub country: &'static str,
    pub product: &'static str,
    pub followers: u64,
}

/// Every seeded account, in the order the consent page lists them (the first is preselected).
pub const SEEDED_USERS: &[SeedUser] = &[
    SeedUser {
        id: "alice.setlist",
        account_id: "aF3kq9Lz1Wm",
        display_name: "Alice Fenwick",
        email: "alice.fenwick@example.com",
        country: "GB",
        product: "premium",
        followers: 12,
    },
    SeedUser {
        id: "bruno.setlist",
        account_id: "bO7tn2Xc5Rp",
        display_name: "Bruno Okafor",
        email: "bruno.okafor@example.com",
        country: "NG",
        product: "premium",
        followers: 3,
    },
    SeedUser {
        id: "chen.setlist",
        account_id: "cW4hv8Jd6Ys",
        display_name: "Chen Wei",
        email: "chen.wei@example.com",
        country: "SG",
        product: "premium",
        followers: 0,
    },
];

pub(crate) fn find(id: &str) -> Option<&'static SeedUser> {
    SEEDED_USERS.iter().find(|user| user.id == id)
}
