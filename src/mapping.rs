//! Local service types to national codes, from a commented TOML file under `mappings/`.
//!
//! Each rule maps one local type to a 9151 code, to a person attribute, or to nothing (with the
//! reason), for a period, so that the 2025 annual mapping and the 2026 daily mapping can
//! differ. Loading refuses what the register would refuse later: a code that is unknown or
//! retired in the rule's period, two rules for one type at once. Errors name file and line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use thiserror::Error;

use crate::date::parse_date;
use crate::model::assessment::Variable;
use crate::model::{AttributeKind, Service, ServiceCode, year_bounds};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Service(ServiceCode),
    Attribute(AttributeKind),
    Ignored { reason: String },
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub local_type: String,
    pub target: Target,
    /// First day the rule applies; open when `None`.
    pub from: Option<NaiveDate>,
    /// Last day the rule applies; open when `None`.
    pub to: Option<NaiveDate>,
    /// Line of the rule in its file, for messages.
    pub line: usize,
}

impl Rule {
    fn applies_on(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|from| from <= day) && self.to.is_none_or(|to| day <= to)
    }

    fn overlaps(&self, other: &Rule) -> bool {
        let starts_before_other_ends = match (self.from, other.to) {
            (Some(from), Some(to)) => from <= to,
            _ => true,
        };
        let ends_after_other_starts = match (self.to, other.from) {
            (Some(to), Some(from)) => from <= to,
            _ => true,
        };
        starts_before_other_ends && ends_after_other_starts
    }
}

/// What a local type means on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution<'a> {
    Service(ServiceCode),
    Attribute(AttributeKind),
    Ignored(&'a str),
    Unmapped,
}

#[derive(Debug, Error)]
pub enum MappingError {
    #[error(
        "{file}: cannot be read: {source} — give the path of a mapping file such as mappings/template.toml"
    )]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Syntax { file: PathBuf, message: String },
    #[error("{file}:{line}: {message}")]
    Rule {
        file: PathBuf,
        line: usize,
        message: String,
    },
}

#[derive(Debug)]
pub struct Mapping {
    file: PathBuf,
    /// Keyed by the local type in upper case: EPJs are not consistent about case.
    rules: HashMap<String, Vec<Rule>>,
    /// The EPJ's own assessment variables (`[[variable]]`), each with its 9111 code.
    variables: Vec<Variable>,
    /// A local type no rule names is read as the national code it spells (an IPLOS
    /// extract's `tjTjenType`), when that code is valid on the day.
    national_codes: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    /// Free text: which EPJ and version the mapping is for.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default, rename = "rule")]
    rules: Vec<toml::Spanned<RuleFile>>,
    #[serde(default, rename = "variable")]
    variables: Vec<toml::Spanned<VariableFile>>,
}

/// `[[variable]]`: an assessment variable as the EPJ names it, and the register's code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariableFile {
    /// The name or code in the extract's `variable` column (any case).
    local: String,
    /// Code system 9111, 1–18.
    code: u8,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    local_type: String,
    code: Option<String>,
    attribute: Option<String>,
    ignore: Option<String>,
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Mapping::parse(&text, path)
    }

    /// Parses mapping text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Mapping, MappingError> {
        let parsed: MappingFile = toml::from_str(text).map_err(|e| MappingError::Syntax {
            file: file.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', "\n  "),
        })?;
        let mut rules: HashMap<String, Vec<Rule>> = HashMap::new();
        for spanned in parsed.rules {
            let line = line_of(text, spanned.span().start);
            let rule =
                build_rule(spanned.into_inner(), line).map_err(|message| MappingError::Rule {
                    file: file.to_path_buf(),
                    line,
                    message,
                })?;
            let same_type = rules.entry(rule.local_type.to_uppercase()).or_default();
            if let Some(earlier) = same_type.iter().find(|r| r.overlaps(&rule)) {
                return Err(MappingError::Rule {
                    file: file.to_path_buf(),
                    line,
                    message: format!(
                        "local type '{}' already has a rule for these dates on line {}; \
                         give the rules from/to dates that do not overlap",
                        rule.local_type, earlier.line
                    ),
                });
            }
            same_type.push(rule);
        }
        let mut variables = Vec::new();
        for spanned in parsed.variables {
            let line = line_of(text, spanned.span().start);
            let variable = spanned.into_inner();
            if !(1..=18).contains(&variable.code) {
                return Err(MappingError::Rule {
                    file: file.to_path_buf(),
                    line,
                    message: format!(
                        "variable '{}': code {} is not an assessment variable of code system 9111 (1–18)",
                        variable.local, variable.code
                    ),
                });
            }
            variables.push(Variable {
                code: variable.local.clone(),
                name: variable.local,
                group: String::new(),
                iplos: Some(variable.code),
            });
        }
        Ok(Mapping {
            file: file.to_path_buf(),
            rules,
            variables,
            national_codes: false,
        })
    }

    /// No rules: every local type is the national code it spells. For a source whose
    /// types are the register's own codes (the IPLOS extract).
    pub fn national() -> Mapping {
        Mapping {
            file: PathBuf::from("(national codes, no mapping file)"),
            rules: HashMap::new(),
            variables: Vec::new(),
            national_codes: true,
        }
    }

    /// These rules first, then the national code a local type spells: a mapping file for an
    /// IPLOS source remaps or ignores codes and needs to name no other.
    pub fn with_national_codes(mut self) -> Mapping {
        self.national_codes = true;
        self
    }

    /// The EPJ's own assessment variables, beside the built-in names.
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// What `local_type` means on `day`.
    pub fn resolve(&self, local_type: &str, day: NaiveDate) -> Resolution<'_> {
        let rule = self
            .rules
            .get(&local_type.trim().to_uppercase())
            .and_then(|rules| rules.iter().find(|r| r.applies_on(day)));
        match rule.map(|r| &r.target) {
            Some(Target::Service(code)) => Resolution::Service(*code),
            Some(Target::Attribute(kind)) => Resolution::Attribute(*kind),
            Some(Target::Ignored { reason }) => Resolution::Ignored(reason),
            None if self.national_codes => local_type
                .parse::<ServiceCode>()
                .ok()
                .filter(|code| code.info().is_some_and(|info| info.is_valid_on(day)))
                .map_or(Resolution::Unmapped, Resolution::Service),
            None => Resolution::Unmapped,
        }
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.values().flatten()
    }
}

/// The day whose rule applies to a service reported for `year`: its start (or decision),
/// clamped to the year, so that the rule in force for that year's report is used.
pub fn reporting_day(service: &Service, year: i32) -> NaiveDate {
    let (first, last) = year_bounds(year);
    service
        .start
        .or(service.decided_on)
        .unwrap_or(first)
        .clamp(first, last)
}

fn build_rule(rule: RuleFile, line: usize) -> Result<Rule, String> {
    let date = |field: &str, value: &Option<String>| -> Result<Option<NaiveDate>, String> {
        value
            .as_deref()
            .map(|v| {
                parse_date(v).map_err(|why| {
                    format!("{field} = '{v}' is not a date{why}; write \"YYYY-MM-DD\"")
                })
            })
            .transpose()
    };
    let from = date("from", &rule.from)?;
    let to = date("to", &rule.to)?;
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(format!("the rule ends ({to}) before it starts ({from})"));
    }
    let local_type = rule.local_type.trim().to_string();
    if local_type.is_empty() {
        return Err("local_type is empty".into());
    }
    let target = match (rule.code, rule.attribute, rule.ignore) {
        (Some(code), None, None) => Target::Service(check_code(&code, from, to)?),
        (None, Some(attribute), None) => Target::Attribute(attribute.parse().map_err(|()| {
            let known: Vec<&str> = AttributeKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("attribute '{attribute}' is not one of {}", known.join(", "))
        })?),
        (None, None, Some(reason)) if !reason.trim().is_empty() => Target::Ignored { reason },
        (None, None, Some(_)) => {
            return Err("ignore needs a reason the IPLOS contact can read".into());
        }
        _ => {
            return Err(format!(
                "the rule for '{local_type}' needs exactly one of code, attribute or ignore"
            ));
        }
    };
    Ok(Rule {
        local_type,
        target,
        from,
        to,
        line,
    })
}

/// The code, if it exists and is valid for the whole of the rule's period.
fn check_code(
    text: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<ServiceCode, String> {
    let code: ServiceCode = text.parse().map_err(|()| {
        format!("code '{text}' is not a 9151 code; write a number such as 15 or 08.01")
    })?;
    let info = code.info().ok_or_else(|| {
        format!("code {code} is not in the national list 9151 (see mappings/template.toml)")
    })?;
    if info.valid_until == Some(info.valid_from) {
        return Err(format!("code {code} has never been in use"));
    }
    if let Some(until) = info.valid_until
        && to.is_none_or(|to| to >= until)
    {
        let replacement = match code.main() {
            12 | 13 => "; housing is 29 since 2019",
            16 => {
                "; rehabilitation outside institution is now attribute = \"rehab_outside_institution\""
            }
            _ => "",
        };
        return Err(format!(
            "code {code} ({}) was retired on {until}, but this rule applies after that{replacement}",
            info.name
        ));
    }
    if let Some(from) = from
        && from < info.valid_from
    {
        return Err(format!(
            "code {code} is valid from {}, but this rule starts {from}",
            info.valid_from
        ));
    }
    Ok(code)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Mapping, MappingError> {
        Mapping::parse(text, Path::new("test.toml"))
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn resolves_by_date_and_ignores_case() {
        let mapping = parse(
            r#"
[[rule]]
local_type = "HJSPL"
code = "15"

[[rule]]
local_type = "REHAB"
attribute = "rehab_outside_institution"
to = "2025-12-31"

[[rule]]
local_type = "rehab"
code = "19"
from = "2026-01-01"

[[rule]]
local_type = "KAFE"
ignore = "an open offer, not a granted service"
"#,
        )
        .unwrap();
        assert_eq!(
            mapping.resolve("hjspl", day("2025-05-01")),
            Resolution::Service("15".parse().unwrap())
        );
        assert_eq!(
            mapping.resolve("REHAB", day("2025-05-01")),
            Resolution::Attribute(AttributeKind::RehabOutsideInstitution)
        );
        assert_eq!(
            mapping.resolve("REHAB", day("2026-05-01")),
            Resolution::Service("19".parse().unwrap())
        );
        assert!(matches!(
            mapping.resolve("KAFE", day("2025-01-01")),
            Resolution::Ignored(_)
        ));
        assert_eq!(
            mapping.resolve("UNKNOWN", day("2025-01-01")),
            Resolution::Unmapped
        );
    }

    #[test]
    fn refuses_retired_and_unknown_codes_naming_the_line() {
        let error = parse("\n[[rule]]\nlocal_type = \"BOLIG\"\ncode = \"12\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("test.toml:2:"), "{error}");
        assert!(
            error.contains("code 12") && error.contains("retired") && error.contains("29"),
            "{error}"
        );

        let error = parse("[[rule]]\nlocal_type = \"X\"\ncode = \"30\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("test.toml:1:") && error.contains("code 30"),
            "{error}"
        );

        let error = parse("[[rule]]\nlocal_type = \"X\"\ncode = \"10\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("never been in use"), "{error}");

        let error = parse("[[rule]]\nlocal_type = \"X\"\ncode = \"16\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("rehab_outside_institution"), "{error}");
    }

    #[test]
    fn a_retired_code_is_fine_for_a_period_before_it_retired() {
        parse("[[rule]]\nlocal_type = \"BOLIG\"\ncode = \"12\"\nto = \"2018-12-31\"\n").unwrap();
    }

    #[test]
    fn refuses_overlaps_unknown_keys_and_incomplete_rules() {
        let overlap = "[[rule]]\nlocal_type = \"A\"\ncode = \"1\"\n[[rule]]\nlocal_type = \"a\"\ncode = \"2\"\nfrom = \"2026-01-01\"\n";
        let error = parse(overlap).unwrap_err().to_string();
        assert!(
            error.contains("test.toml:4:") && error.contains("line 1"),
            "{error}"
        );

        let error = parse("[[rule]]\nlocal_type = \"A\"\ncodes = \"1\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("codes") && error.contains("line 3"),
            "{error}"
        );

        let error = parse("[[rule]]\nlocal_type = \"A\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("exactly one of"), "{error}");

        let error = parse("[[rule]]\nlocal_type = \"A\"\ncode = \"1\"\nfrom = \"31.02.2025\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("February 2025 has 28 days"), "{error}");
    }

    #[test]
    fn the_shipped_mappings_load_and_the_template_lists_every_current_code() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
        let template_path = dir.join("template.toml");
        let template = std::fs::read_to_string(&template_path).unwrap();
        Mapping::parse(&template, &template_path).unwrap();
        for service_type in crate::model::SERVICE_TYPES
            .iter()
            .filter(|t| t.is_valid_in_year(2025))
        {
            let example = format!("# code = \"{}\"", service_type.code);
            assert!(
                template.contains(&example),
                "template lacks {}",
                service_type.code
            );
        }
        // Uncommenting the examples gives rules that load, one per code.
        let uncommented: String = template
            .lines()
            .filter(|l| {
                l.starts_with("# [[rule]]")
                    || l.starts_with("# local_type")
                    || l.starts_with("# code")
            })
            .take(3 * 27)
            .collect::<Vec<_>>()
            .join("\n")
            .replace("# ", "");
        let mut numbered = String::new();
        for (i, line) in uncommented.lines().enumerate() {
            numbered.push_str(&line.replace("YOUR-TYPE", &format!("T{i}")));
            numbered.push('\n');
        }
        assert_eq!(
            Mapping::parse(&numbered, &template_path)
                .unwrap()
                .rules()
                .count(),
            27
        );
        Mapping::load(&dir.join("sample-epj.toml")).unwrap();
    }

    #[test]
    fn an_epj_s_assessment_variables_carry_their_9111_codes() {
        let mapping =
            parse("[[variable]]\nlocal = \"ADL_HYG\"\ncode = 7\nnote = \"hygiene\"\n").unwrap();
        let variable = &mapping.variables()[0];
        assert_eq!(
            (variable.code.as_str(), variable.iplos),
            ("ADL_HYG", Some(7))
        );
        let variables =
            crate::model::assessment::AssessmentVariables::extended(mapping.variables().to_vec());
        assert_eq!(variables.find("adl_hyg").and_then(|v| v.iplos), Some(7));
        let error = parse("\n[[variable]]\nlocal = \"X\"\ncode = 42\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains(":2") && error.contains("9111"), "{error}");
    }
}
