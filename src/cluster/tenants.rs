//! The directory of a multi-municipality deployment: every `*.toml` in it is one
//! municipality's configuration, each with the same `[state] url` and a `[state] schema` of
//! its own. A file that cannot be used is reported and left out; the others still run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{Config, url};

/// The municipalities a directory names, by schema.
#[derive(Debug)]
pub struct Tenants {
    pub dir: PathBuf,
    /// The PostgreSQL database every municipality's schema is in (and the leases).
    pub url: String,
    pub configs: BTreeMap<String, Config>,
    /// Each file left out, and why.
    pub problems: Vec<String>,
}

impl Tenants {
    /// Reads the directory. `Err` when it cannot be read or names no usable municipality.
    pub fn load(dir: &Path) -> Result<Tenants, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            format!(
                "{}: cannot read the directory of municipalities' configurations: {e}",
                dir.display()
            )
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml") && path.is_file())
            .collect();
        files.sort();
        let mut tenants = Tenants {
            dir: dir.to_path_buf(),
            url: String::new(),
            configs: BTreeMap::new(),
            problems: Vec::new(),
        };
        let mut municipalities: BTreeMap<String, PathBuf> = BTreeMap::new();
        for file in files {
            let config = match Config::load(&file) {
                Ok(config) => config,
                Err(e) => {
                    tenants.problems.push(format!("{e}\n  — left out"));
                    continue;
                }
            };
            match tenants.usable(&config, &municipalities) {
                Ok(schema) => {
                    municipalities.insert(config.municipality.clone(), file);
                    tenants.configs.insert(schema, config);
                }
                Err(why) => tenants
                    .problems
                    .push(format!("{}: {why} — left out", file.display())),
            }
        }
        if tenants.configs.is_empty() {
            let mut message = format!(
                "{}: no municipality's configuration can be used (every *.toml is one; see docs/runbook.md, \"Many municipalities on one deployment\")",
                dir.display()
            );
            for problem in &tenants.problems {
                message.push_str("\n- ");
                message.push_str(problem);
            }
            return Err(message);
        }
        Ok(tenants)
    }

    /// The configuration's schema when it can join the others, or why not.
    fn usable(
        &mut self,
        config: &Config,
        municipalities: &BTreeMap<String, PathBuf>,
    ) -> Result<String, String> {
        let suggestion = format!("kpr_{}", config.municipality);
        let Some(state_url) = &config.state_url else {
            return Err(format!(
                "[state] url is missing: every municipality keeps its state in the shared PostgreSQL database, in a schema of its own (such as schema = \"{suggestion}\")"
            ));
        };
        let Some(schema) = &config.state_schema else {
            return Err(format!(
                "[state] schema is missing: add schema = \"{suggestion}\", a schema no other municipality uses"
            ));
        };
        if schema == "public" || schema == crate::store::leases::SCHEMA {
            return Err(format!(
                "[state] schema = \"{schema}\" is shared; give the municipality its own, such as \"{suggestion}\""
            ));
        }
        if self.url.is_empty() {
            self.url = state_url.clone();
        } else if &self.url != state_url {
            return Err(format!(
                "[state] url {} is not the deployment's {}: every municipality's state is in one database",
                url::redacted(state_url),
                url::redacted(&self.url)
            ));
        }
        if let Some(other) = municipalities.get(&config.municipality) {
            return Err(format!(
                "municipality {} is configured already in {}",
                config.municipality,
                other.display()
            ));
        }
        if let Some(other) = self.configs.get(schema) {
            return Err(format!(
                "[state] schema = \"{schema}\" is municipality {}'s already ({})",
                other.municipality,
                other.file.display()
            ));
        }
        Ok(schema.clone())
    }

    /// (schema, municipality) of each, for the leases.
    pub fn enrolment(&self) -> Vec<(String, String)> {
        self.configs
            .iter()
            .map(|(schema, config)| (schema.clone(), config.municipality.clone()))
            .collect()
    }
}
