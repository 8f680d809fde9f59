//! How people call: how much each package calls, the mix of call kinds, how often calls are
//! answered, how long they last, and when in the week they happen.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// What a package lets its holder call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Profile {
    /// A Webex Calling user (`webex_calling`, `webex_voice`, `webex_suite`).
    Calling,
    /// A common-area phone (`common_area_calling`, workspaces): no international or premium calls.
    CommonArea,
    /// A Meetings-only user: calls into meetings and a few internal calls.
    Meetings,
    /// A contact-centre agent (`cx_essentials`): many inbound and toll-free calls.
    ContactCentre,
}

/// The profile of a package and its call rate, per mille of a `webex_calling` user, when held by
/// a user and when held by a workspace.
pub(super) fn package_profile(package: &str) -> (Profile, u32, u32) {
    match package {
        "webex_calling" => (Profile::Calling, 1000, 350),
        "webex_voice" => (Profile::Calling, 750, 300),
        "webex_suite" => (Profile::Calling, 1000, 350),
        "cx_essentials" => (Profile::ContactCentre, 1600, 400),
        "webex_meetings" => (Profile::Meetings, 40, 20),
        "common_area_calling" => (Profile::CommonArea, 250, 250),
        _ => (Profile::Calling, 500, 250),
    }
}

/// The kind of a call, which decides its direction, call type and number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    National,
    Mobile,
    International,
    Premium,
    ShortCode,
    TollFreeOut,
    Emergency,
    Internal,
    Meeting,
    Inbound,
    TollFreeIn,
    Unknown,
}

/// Mixes of call kinds per profile, per 10,000 calls.
const CALLING: [(Kind, u32); 12] = [
    (Kind::National, 2300),
    (Kind::Mobile, 1500),
    (Kind::International, 400),
    (Kind::Premium, 50),
    (Kind::ShortCode, 50),
    (Kind::TollFreeOut, 150),
    (Kind::Emergency, 3),
    (Kind::Internal, 1500),
    (Kind::Meeting, 200),
    (Kind::Inbound, 3500),
    (Kind::TollFreeIn, 330),
    (Kind::Unknown, 17),
];
const COMMON_AREA: [(Kind, u32); 8] = [
    (Kind::National, 3000),
    (Kind::Mobile, 1500),
    (Kind::ShortCode, 30),
    (Kind::TollFreeOut, 200),
    (Kind::Emergency, 10),
    (Kind::Internal, 2500),
    (Kind::Inbound, 2750),
    (Kind::Unknown, 10),
];
const MEETINGS: [(Kind, u32); 2] = [(Kind::Meeting, 9000), (Kind::Internal, 1000)];
const CONTACT_CENTRE: [(Kind, u32); 10] = [
    (Kind::National, 1500),
    (Kind::Mobile, 1200),
    (Kind::International, 300),
    (Kind::TollFreeOut, 50),
    (Kind::Emergency, 1),
    (Kind::Internal, 800),
    (Kind::Meeting, 50),
    (Kind::Inbound, 4000),
    (Kind::TollFreeIn, 2090),
    (Kind::Unknown, 9),
];

/// Draws the kind of a call of `profile`.
pub(super) fn draw_kind(rng: &mut ChaCha8Rng, profile: Profile) -> Kind {
    let mix: &[(Kind, u32)] = match profile {
        Profile::Calling => &CALLING,
        Profile::CommonArea => &COMMON_AREA,
        Profile::Meetings => &MEETINGS,
        Profile::ContactCentre => &CONTACT_CENTRE,
    };
    let mut r = rng.random_range(0..10_000u32);
    for &(kind, weight) in mix {
        if r < weight {
            return kind;
        }
        r -= weight;
    }
    Kind::National
}

/// Answered calls per mille of a kind.
pub(super) fn answered_per_mille(kind: Kind) -> u32 {
    match kind {
        Kind::National | Kind::Mobile | Kind::International => 780,
        Kind::Premium => 700,
        Kind::ShortCode => 900,
        Kind::TollFreeOut => 850,
        Kind::Emergency => 1000,
        Kind::Internal => 850,
        Kind::Meeting => 980,
        Kind::Inbound => 720,
        Kind::TollFreeIn => 800,
        Kind::Unknown => 500,
    }
}

/// Answered calls that still last 0 seconds (dropped at once), per mille.
pub(super) const ZERO_DURATION_PER_MILLE: u32 = 15;

/// Durations: (per mille, shortest, longest) in seconds, uniform inside a bucket.
type Buckets = &'static [(u32, u32, u32)];
const TALK: Buckets = &[
    (120, 1, 15),
    (250, 16, 60),
    (280, 61, 180),
    (220, 181, 600),
    (100, 601, 1800),
    (30, 1801, 7200),
];
const SHORT: Buckets = &[(300, 10, 60), (500, 61, 240), (200, 241, 900)];
const MEETING: Buckets = &[(100, 60, 600), (500, 601, 2700), (400, 2701, 5400)];
const INTERNAL: Buckets = &[(250, 1, 30), (400, 31, 180), (250, 181, 600), (100, 601, 2400)];
const QUEUED: Buckets = &[(200, 10, 60), (400, 61, 300), (300, 301, 1200), (100, 1201, 3600)];
const EMERGENCY: Buckets = &[(1000, 30, 600)];

/// Draws the duration (seconds) of an answered call of `kind`: many short calls, a long tail.
pub(super) fn draw_duration(rng: &mut ChaCha8Rng, kind: Kind) -> u32 {
    let buckets = match kind {
        Kind::Premium | Kind::ShortCode => SHORT,
        Kind::Meeting => MEETING,
        Kind::Internal => INTERNAL,
        Kind::TollFreeIn | Kind::TollFreeOut => QUEUED,
        Kind::Emergency => EMERGENCY,
        _ => TALK,
    };
    let mut r = rng.random_range(0..1000u32);
    for &(weight, lo, hi) in buckets {
        if r < weight {
            return rng.random_range(lo..=hi);
        }
        r -= weight;
    }
    60
}

/// Relative call activity by local hour: weekdays peak in office hours, weekends are quiet.
const WEEKDAY: [u32; 24] = [
    2, 1, 1, 1, 1, 3, 6, 15, 55, 100, 110, 105, 70, 85, 100, 95, 85, 50, 25, 15, 10, 7, 5, 3,
];
const SATURDAY: [u32; 24] = [
    2, 1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 12, 12, 11, 10, 8, 6, 5, 4, 3, 3, 2,
];
const SUNDAY: [u32; 24] = [2, 1, 1, 1, 1, 1, 1, 2, 5, 8, 10, 10, 9, 9, 9, 8, 8, 7, 6, 5, 4, 3, 2, 2];

/// The activity of the local hour starting at `local_hour` (hours since the epoch, local time).
pub(super) fn activity(local_hour: i64) -> u32 {
    let day = local_hour.div_euclid(24);
    let hour = local_hour.rem_euclid(24) as usize;
    // 1970-01-01 was a Thursday: weekday 0 is Monday.
    let table = match (day + 3).rem_euclid(7) {
        5 => &SATURDAY,
        6 => &SUNDAY,
        _ => &WEEKDAY,
    };
    table.get(hour).copied().unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_add_up() {
        for mix in [&CALLING[..], &COMMON_AREA, &MEETINGS, &CONTACT_CENTRE] {
            assert_eq!(mix.iter().map(|(_, w)| w).sum::<u32>(), 10_000);
        }
        for buckets in [TALK, SHORT, MEETING, INTERNAL, QUEUED, EMERGENCY] {
            assert_eq!(buckets.iter().map(|(w, _, _)| w).sum::<u32>(), 1000);
        }
        // 2024-05-04 (a Saturday) 10:00 local, and Monday 2024-05-06 10:00.
        let saturday = 19_847 * 24 + 10;
        assert_eq!(activity(saturday), SATURDAY[10]);
        assert_eq!(activity(saturday + 48), WEEKDAY[10]);
    }
}
