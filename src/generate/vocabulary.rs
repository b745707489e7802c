//! What a synthetic municipality is made of: names, the local service types of an imagined
//! EPJ with how common and how long each is, and common diagnoses. The weights follow the
//! shape of published KPR statistics (home nursing and practical help dominate; many short
//! stays; welfare technology is growing) without claiming to reproduce any real municipality.

pub const FEMALE_NAMES: &[&str] = &[
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg", "Randi",
    "Solveig", "Ragnhild", "Åse", "Gunvor", "Tove", "Sigrid", "Kjellaug", "Målfrid", "Torunn",
    "Grethe", "Æsa", "Synnøve", "Gudrun", "Helga", "Nora", "Emma", "Sofie", "Ida", "Jorunn",
    "Wenche", "Brit", "Dagny", "Oddrun", "Åslaug", "Herdis",
];

pub const MALE_NAMES: &[&str] = &[
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Hans", "Odd", "Terje",
    "Håkon", "Øyvind", "Geir", "Tor", "Rolf", "Leif", "Egil", "Asbjørn", "Ståle", "Jørgen",
    "Sverre", "Gunnar", "Trond", "Harald", "Nils", "Magnus", "Jonas", "Kåre", "Bård", "Ørjan",
    "Sigurd", "Einar",
];

pub const SURNAMES: &[&str] = &[
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
    "Jørgensen",
    "Halvorsen",
    "Henriksen",
    "Lund",
    "Sørensen",
    "Jakobsen",
    "Moen",
    "Gundersen",
    "Iversen",
    "Strand",
    "Solberg",
    "Svendsen",
    "Eide",
    "Knutsen",
    "Martinsen",
    "Paulsen",
    "Bakken",
    "Kristoffersen",
    "Mathisen",
    "Lie",
    "Sæther",
    "Løvås",
    "Ødegård",
    "Kåsa",
    "Åsheim",
    "Brække",
    "Rønning",
    "Øien",
    "Hågensen",
    "Bø",
    "Sætre",
    "Grønlie",
    "Aasen",
    "Østby",
    "Lægreid",
    "Fjære",
];

/// How long a decision of a type usually runs.
#[derive(Clone, Copy, Debug)]
pub enum Duration {
    /// Months to years; often still running.
    Long,
    /// Weeks to a few months.
    Medium,
    /// `min`–`max` days: short stays and emergency beds.
    Days(u32, u32),
}

/// Whether the generator writes the provider's orgnr, as a careful EPJ would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Always,
    Sometimes,
    Never,
}

#[derive(Clone, Copy, Debug)]
pub struct LocalType {
    pub code: &'static str,
    /// Relative frequency among decisions.
    pub weight: u32,
    pub duration: Duration,
    /// Typical granted hours per week (min, max) where the service is counted in hours.
    pub hours: Option<(u32, u32)>,
    pub provider: Provider,
    /// A service at home, where pauses (hospital stays, holidays) are common.
    pub at_home: bool,
}

const fn local(
    code: &'static str,
    weight: u32,
    duration: Duration,
    hours: Option<(u32, u32)>,
    provider: Provider,
    at_home: bool,
) -> LocalType {
    LocalType {
        code,
        weight,
        duration,
        hours,
        provider,
        at_home,
    }
}

use Duration::{Days, Long, Medium};
use Provider::{Always, Never, Sometimes};

/// The imagined EPJ's service types; `mappings/sample-epj.toml` maps every one of them.
pub const LOCAL_TYPES: &[LocalType] = &[
    local("HJSPL", 300, Long, Some((1, 15)), Always, true),
    local("PRAKT", 150, Long, Some((1, 6)), Always, true),
    local("PRAKT-OPPL", 15, Medium, Some((1, 5)), Always, true),
    local("BPA", 10, Long, Some((10, 60)), Always, true),
    local("DAGSENTER", 50, Long, Some((4, 20)), Always, false),
    local("MATOMBR", 40, Long, None, Sometimes, true),
    local("TRYGGH", 120, Long, None, Sometimes, true),
    local("AVL-HJEM", 15, Medium, Some((2, 10)), Sometimes, true),
    local("AVL-INST-R", 10, Long, None, Always, false),
    local("AVL-INST", 10, Days(3, 14), None, Always, false),
    local("STOTTEK", 30, Long, Some((1, 5)), Sometimes, false),
    local("OMSST", 15, Long, Some((5, 30)), Sometimes, true),
    local("DAGOPPH", 10, Medium, None, Always, false),
    local("KORT-UTR", 30, Days(7, 30), None, Always, false),
    local("KORT-REHAB", 30, Days(14, 42), None, Always, false),
    local("KORT-ANN", 40, Days(3, 21), None, Always, false),
    local("LANGTID", 60, Long, None, Always, false),
    local("NATTOPPH", 3, Medium, None, Always, false),
    local("TVANG-HH", 2, Medium, None, Sometimes, false),
    local("KAD", 20, Days(1, 5), None, Always, false),
    local("GPS", 15, Long, None, Never, true),
    local("MEDDISP", 25, Long, None, Sometimes, true),
    local("DIGTILS", 20, Long, None, Sometimes, true),
    local("OMSBOLIG", 30, Long, None, Never, true),
    local("REHAB-HJEM", 20, Medium, None, Sometimes, true),
    local("KAFE", 10, Long, None, Never, false),
];

/// ICPC-2 codes common among people receiving municipal care.
pub const COMMON_ICPC2: &[&str] = &[
    "P70", "K86", "T90", "K77", "R95", "K90", "L95", "N87", "K78", "P76", "L89", "F84", "U99",
    "A04", "L90", "K74", "N86", "P74", "T93", "D75",
];

/// ICD-10 codes some EPJs record instead.
pub const COMMON_ICD10: &[&str] = &[
    "F03", "I10", "E11.9", "I50.9", "J44.9", "G30.1", "M81.0", "F32.1",
];

/// Names that real EPJs use for their test patients: the register wants them left out.
pub const TEST_USER_NAMES: &[&str] = &["Donald Duck", "Test Testesen", "Test Pasient"];
