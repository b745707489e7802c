//! The functional assessment (bistandsbehov): its variables and the 1–5, 9 scale.
//!
//! The compiled-in list holds the register's 18 variables (code system 9111) under the names
//! EPJs commonly use; a configuration adds its own names (`[assessment] extra_variables`,
//! each with its 9111 code), and an unknown variable is kept and reported by the checks
//! rather than dropped.

use std::sync::LazyLock;

use serde::Deserialize;

use super::compiled;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Variable {
    /// The code an extract writes in its `variable` column.
    pub code: String,
    /// The Norwegian name, which extracts may also use.
    pub name: String,
    pub group: String,
    /// The register's code for it (code system 9111, 1–18); a variable without one cannot
    /// be reported in the annual message and is counted as left out.
    #[serde(default)]
    pub iplos: Option<u8>,
}

#[derive(Clone, Debug)]
pub struct AssessmentVariables {
    variables: Vec<Variable>,
}

static BUILTIN: LazyLock<AssessmentVariables> = LazyLock::new(|| AssessmentVariables {
    variables: compiled(include_str!("data/assessment_variables.csv")).collect(),
});

impl AssessmentVariables {
    pub fn builtin() -> &'static AssessmentVariables {
        &BUILTIN
    }

    /// The built-in list plus variables a configuration adds (codes already known are kept once).
    pub fn extended(extra: impl IntoIterator<Item = Variable>) -> AssessmentVariables {
        let mut variables = BUILTIN.variables.clone();
        for variable in extra {
            if variables.iter().all(|v| v.code != variable.code) {
                variables.push(variable);
            }
        }
        AssessmentVariables { variables }
    }

    pub fn all(&self) -> &[Variable] {
        &self.variables
    }

    /// Finds a variable by code or by Norwegian name, ignoring case.
    pub fn find(&self, code_or_name: &str) -> Option<&Variable> {
        let wanted = code_or_name.trim();
        // Compared char by char: asked for every score of every person, so nothing is made.
        let same_name = |name: &str| {
            if name.is_ascii() && wanted.is_ascii() {
                name.eq_ignore_ascii_case(wanted)
            } else {
                name.chars()
                    .flat_map(char::to_lowercase)
                    .eq(wanted.chars().flat_map(char::to_lowercase))
            }
        };
        self.variables
            .iter()
            .find(|v| v.code.eq_ignore_ascii_case(wanted) || same_name(&v.name))
    }
}

/// One step of the scale, with Helsedirektoratet's wording.
#[derive(Debug, Deserialize)]
pub struct ScaleStep {
    #[serde(rename = "skar")]
    pub score: u8,
    #[serde(rename = "betydning_kort")]
    pub meaning: String,
}

static SCALE: LazyLock<Vec<ScaleStep>> =
    LazyLock::new(|| compiled(include_str!("data/iplos_skala.csv")).collect());

pub fn scale() -> &'static [ScaleStep] {
    &SCALE
}

/// 1 (no need) to 5 (full need), and 9 (not relevant).
pub fn is_valid_score(score: u8) -> bool {
    scale().iter().any(|step| step.score == score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_list() {
        let vars = AssessmentVariables::builtin();
        assert_eq!(vars.all().len(), 18);
        assert_eq!(vars.find("Hukommelse").unwrap().iplos, Some(15));
        let codes: std::collections::BTreeSet<u8> =
            vars.all().iter().filter_map(|v| v.iplos).collect();
        assert_eq!(codes, (1..=18).collect(), "every 9111 code once");
        assert_eq!(vars.find("hukommelse").unwrap().name, "Hukommelse");
        assert_eq!(
            vars.find("Bevege seg innendørs").unwrap().code,
            "bevege_innendors"
        );
        assert!(vars.find("flying").is_none());
    }

    #[test]
    fn configuration_extends_the_list() {
        let extra = Variable {
            code: "ADL_HYG".into(),
            name: "Hygiene (lokal)".into(),
            group: "x".into(),
            iplos: Some(7),
        };
        let vars = AssessmentVariables::extended([extra.clone(), extra]);
        assert_eq!(vars.all().len(), 19);
        assert_eq!(vars.find("adl_hyg").unwrap().iplos, Some(7));
    }

    #[test]
    fn scale_is_1_to_5_and_9() {
        let valid: Vec<u8> = (0..=10).filter(|s| is_valid_score(*s)).collect();
        assert_eq!(valid, [1, 2, 3, 4, 5, 9]);
        assert!(scale()[0].meaning.starts_with("Utgjør ingen problemer"));
    }
}
