//! Municipality numbers with the years they are valid, their renumberings, and city districts.
//!
//! Compiled in from SSB Klass 131 (see `data/`): the register wants the number that was valid
//! in the reporting year, and many changed in the 2020 and 2024 reforms. Numbers are text
//! everywhere: `0301` must stay `0301`.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::Deserialize;

use super::{compiled, year_bounds};

#[derive(Debug)]
pub struct MunicipalityPeriod {
    pub number: String,
    pub name: String,
    pub valid_from: NaiveDate,
    /// First day no longer valid; `None` while in use.
    pub valid_until: Option<NaiveDate>,
}

/// One step of a reform: `old` became (part of) `new` on `date`.
#[derive(Debug)]
pub struct Renumbering {
    pub old: String,
    pub old_name: String,
    pub new: String,
    pub new_name: String,
    pub date: NaiveDate,
    /// `renumbered`, `merged`, `split`, …, as SSB describes it.
    pub kind: String,
}

#[derive(Debug)]
pub struct District {
    pub number: String,
    pub name: String,
    pub municipality: String,
}

pub struct Municipalities {
    periods: HashMap<String, Vec<MunicipalityPeriod>>,
    renumberings: HashMap<String, Vec<Renumbering>>,
    districts: HashMap<String, District>,
}

static MUNICIPALITIES: LazyLock<Municipalities> = LazyLock::new(Municipalities::load);

/// The compiled-in municipality register.
pub fn municipalities() -> &'static Municipalities {
    &MUNICIPALITIES
}

impl Municipalities {
    /// Whether `number` is a municipality on some day of `year`.
    pub fn is_valid_in_year(&self, number: &str, year: i32) -> bool {
        self.period_in_year(number, year).is_some()
    }

    pub fn period_in_year(&self, number: &str, year: i32) -> Option<&MunicipalityPeriod> {
        let (first, last) = year_bounds(year);
        self.periods
            .get(number)?
            .iter()
            .find(|p| p.valid_from <= last && p.valid_until.is_none_or(|until| first < until))
    }

    /// Every number valid on some day of `year`, sorted.
    pub fn valid_in_year(&self, year: i32) -> Vec<&str> {
        let mut numbers: Vec<&str> = self
            .periods
            .keys()
            .filter(|n| self.is_valid_in_year(n, year))
            .map(String::as_str)
            .collect();
        numbers.sort_unstable();
        numbers
    }

    /// The most recent name the number had, for messages.
    pub fn name(&self, number: &str) -> Option<&str> {
        let periods = self.periods.get(number)?;
        periods
            .iter()
            .max_by_key(|p| p.valid_from)
            .map(|p| p.name.as_str())
    }

    /// What `number` was turned into, and when (several entries where it was split).
    pub fn renumberings(&self, number: &str) -> &[Renumbering] {
        self.renumberings.get(number).map_or(&[], Vec::as_slice)
    }

    /// The numbers that replaced `number` and are valid in `year`, following chains such as
    /// 0219 Bærum → 3024 (2020) → 3201 (2024).
    pub fn successors_in_year(&self, number: &str, year: i32) -> Vec<&Renumbering> {
        let mut found = Vec::new();
        let mut frontier: Vec<&str> = vec![number];
        let mut seen = std::collections::HashSet::new();
        while let Some(current) = frontier.pop() {
            for step in self.renumberings(current) {
                if !seen.insert((step.old.as_str(), step.new.as_str())) {
                    continue;
                }
                if self.is_valid_in_year(&step.new, year) {
                    found.push(step);
                } else {
                    frontier.push(&step.new);
                }
            }
        }
        found
    }

    /// A sentence for an operator about an invalid number, naming replacements where known.
    ///
    /// ```
    /// use kpr_bridge::model::municipalities::municipalities;
    ///
    /// assert_eq!(
    ///     municipalities().explain_invalid("3024", 2025),
    ///     "3024 Bærum is not a municipality in 2025; it was replaced by 3201 Bærum on 1 January 2024"
    /// );
    /// ```
    pub fn explain_invalid(&self, number: &str, year: i32) -> String {
        let successors = self.successors_in_year(number, year);
        let own_name = self
            .name(number)
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        if successors.is_empty() {
            return match self.periods.contains_key(number) {
                true => format!("{number}{own_name} is not a municipality in {year}"),
                false => format!("{number} is not a Norwegian municipality number"),
            };
        }
        let replacements: Vec<String> = successors
            .iter()
            .map(|s| format!("{} {} on {}", s.new, s.new_name, long_date(s.date)))
            .collect();
        format!(
            "{number}{own_name} is not a municipality in {year}; it was replaced by {}",
            replacements.join(" and by ")
        )
    }

    pub fn district(&self, number: &str) -> Option<&District> {
        self.districts.get(number)
    }

    /// Whether the municipality has city districts in the compiled list.
    pub fn has_districts(&self, municipality: &str) -> bool {
        self.districts
            .values()
            .any(|d| d.municipality == municipality)
    }

    fn load() -> Municipalities {
        #[derive(Deserialize)]
        struct HistoryRow {
            kommunenummer: String,
            navn: String,
            gyldig_fra: NaiveDate,
            gyldig_til: Option<NaiveDate>,
        }
        #[derive(Deserialize)]
        struct ChangeRow {
            old_code: String,
            old_name: String,
            new_code: String,
            new_name: String,
            change_date: NaiveDate,
            change_type: String,
        }
        #[derive(Deserialize)]
        struct DistrictRow {
            bydelsnummer: String,
            navn: String,
            kommunenummer: String,
        }
        #[derive(Deserialize)]
        struct CurrentRow {
            kommunenummer: String,
            navn: String,
        }

        let mut periods: HashMap<String, Vec<MunicipalityPeriod>> = HashMap::new();
        for row in compiled::<HistoryRow>(include_str!("data/kommuner_history.csv")) {
            periods
                .entry(row.kommunenummer.clone())
                .or_default()
                .push(MunicipalityPeriod {
                    number: row.kommunenummer,
                    name: row.navn,
                    valid_from: row.gyldig_fra,
                    valid_until: row.gyldig_til,
                });
        }
        // The history carries official (some Sami) names; operators know the short ones.
        for row in compiled::<CurrentRow>(include_str!("data/kommuner_2025.csv")) {
            if let Some(current) = periods
                .get_mut(&row.kommunenummer)
                .and_then(|ps| ps.iter_mut().find(|p| p.valid_until.is_none()))
            {
                current.name = row.navn;
            }
        }
        let mut renumberings: HashMap<String, Vec<Renumbering>> = HashMap::new();
        for row in compiled::<ChangeRow>(include_str!("data/kommuner_changes.csv")) {
            renumberings
                .entry(row.old_code.clone())
                .or_default()
                .push(Renumbering {
                    old: row.old_code,
                    old_name: row.old_name,
                    new: row.new_code,
                    new_name: row.new_name,
                    date: row.change_date,
                    kind: row.change_type,
                });
        }
        let districts = compiled::<DistrictRow>(include_str!("data/bydeler.csv"))
            .map(|row| {
                let district = District {
                    number: row.bydelsnummer,
                    name: row.navn,
                    municipality: row.kommunenummer,
                };
                (district.number.clone(), district)
            })
            .collect();
        Municipalities {
            periods,
            renumberings,
            districts,
        }
    }
}

fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_357_municipalities_in_2024_2025_and_2026() {
        for year in [2024, 2025, 2026] {
            assert_eq!(municipalities().valid_in_year(year).len(), 357, "{year}");
        }
        assert_eq!(municipalities().valid_in_year(2023).len(), 356);
    }

    #[test]
    fn numbers_stay_text() {
        assert!(municipalities().is_valid_in_year("0301", 2025));
        assert!(!municipalities().is_valid_in_year("301", 2025));
        assert_eq!(municipalities().name("0301"), Some("Oslo"));
    }

    #[test]
    fn baerum_was_renumbered_in_2024() {
        let m = municipalities();
        assert!(m.is_valid_in_year("3024", 2023));
        assert!(!m.is_valid_in_year("3024", 2025));
        assert_eq!(
            m.explain_invalid("3024", 2025),
            "3024 Bærum is not a municipality in 2025; it was replaced by 3201 Bærum on 1 January 2024"
        );
        // Two steps: 0219 → 3024 → 3201.
        let successors: Vec<&str> = m
            .successors_in_year("0219", 2025)
            .iter()
            .map(|s| s.new.as_str())
            .collect();
        assert_eq!(successors, ["3201"]);
    }

    #[test]
    fn alesund_was_split() {
        let mut successors: Vec<&str> = municipalities()
            .successors_in_year("1507", 2025)
            .iter()
            .map(|s| s.new.as_str())
            .collect();
        successors.sort();
        assert_eq!(successors, ["1508", "1580"]);
    }

    #[test]
    fn unknown_numbers_are_explained() {
        assert_eq!(
            municipalities().explain_invalid("9999", 2025),
            "9999 is not a Norwegian municipality number"
        );
    }

    #[test]
    fn districts() {
        let m = municipalities();
        assert_eq!(m.district("030101").unwrap().name, "Gamle Oslo");
        assert_eq!(m.district("460108").unwrap().municipality, "4601");
        assert!(m.has_districts("0301"));
        assert!(!m.has_districts("3201"));
    }
}
