//! How each source's local types are mapped: an unmapped or retired type means services that
//! are not reported at all, so those rows come first and stand out.

use std::fmt::{self, Write};

use super::text::{Escaped, number_cell, percent};
use crate::checks::{MapsTo, TypeCoverage};
use crate::i18n::Language;
use crate::report::{SourceLine, service_type};
use crate::t;

/// How each source's local types are mapped: an unmapped or retired type means services
/// that are not reported at all, so those rows come first and stand out.
pub(super) fn coverage(
    out: &mut String,
    sources: &[SourceLine],
    coverage: &[TypeCoverage],
    lang: Language,
) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"mapping\">\n<h2>{}</h2>",
        Escaped(&t!(lang, "report-mapping"))
    )?;
    if coverage.is_empty() {
        return writeln!(
            out,
            "<p class=\"none\">{}</p>\n</section>",
            Escaped(&t!(lang, "report-mapping-none"))
        );
    }
    let (mapped, all) = mapped_services(coverage.iter());
    writeln!(
        out,
        "<p class=\"coverage\"><strong>{}</strong> {}</p>",
        Escaped(&percent(lang, mapped, all)),
        Escaped(&t!(
            lang,
            "report-mapping-share",
            mapped = mapped,
            all = all
        ))
    )?;
    // In the order of the configuration; a source the list lacks still shows, last.
    let mut names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    for t in coverage {
        if !names.contains(&t.source.as_str()) {
            names.push(&t.source);
        }
    }
    for name in names {
        let mut types: Vec<&TypeCoverage> = coverage.iter().filter(|t| t.source == name).collect();
        if !types.is_empty() {
            types.sort_by_key(|t| t.mapped);
            source_coverage(out, name, &types, lang)?;
        }
    }
    writeln!(out, "</section>")
}

/// Services in mapped types, and all services.
fn mapped_services<'a>(types: impl Iterator<Item = &'a TypeCoverage>) -> (u64, u64) {
    types.fold((0, 0), |(mapped, all), t| {
        (
            mapped + if t.mapped { t.services } else { 0 },
            all + t.services,
        )
    })
}

/// What a local type maps to, in words: `15 Helsetjenester i hjemmet`, `utgått kode 12 …`.
fn maps_to(lang: Language, target: &MapsTo) -> String {
    match target {
        MapsTo::Service(code) => service_type(lang, *code),
        MapsTo::Attribute(kind) => t!(lang, "report-mapping-attribute", attribute = kind.as_str()),
        MapsTo::Ignored(reason) => t!(lang, "report-mapping-ignored", reason = reason.clone()),
        MapsTo::Retired(code) => t!(
            lang,
            "report-mapping-retired",
            code = service_type(lang, *code)
        ),
        MapsTo::Unmapped => t!(lang, "report-mapping-unmapped"),
    }
}

fn source_coverage(
    out: &mut String,
    source: &str,
    types: &[&TypeCoverage],
    lang: Language,
) -> fmt::Result {
    let (mapped, all) = mapped_services(types.iter().copied());
    writeln!(
        out,
        "<h3>{} <span class=\"count\">{}</span></h3>\n<table class=\"mapping\">\n\
         <thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th>\
         <th scope=\"col\">{}</th></tr></thead>\n<tbody>",
        Escaped(source),
        Escaped(&t!(
            lang,
            "report-mapping-source",
            percent = percent(lang, mapped, all)
        )),
        Escaped(&t!(lang, "report-mapping-local-type")),
        Escaped(&t!(lang, "report-mapping-services")),
        Escaped(&t!(lang, "report-mapping-maps-to")),
    )?;
    for t in types {
        write!(
            out,
            "<tr{}><td><code>{}</code></td>",
            if t.mapped { "" } else { " class=\"unmapped\"" },
            Escaped(&t.local_type)
        )?;
        number_cell(out, t.services, lang)?;
        let target = maps_to(lang, &t.target);
        if t.mapped {
            writeln!(out, "<td>{}</td></tr>", Escaped(&target))?;
        } else {
            writeln!(
                out,
                "<td><span class=\"sev error\">&#x2716; {}</span> {}</td></tr>",
                Escaped(&t!(lang, "report-mapping-not-reported")),
                Escaped(&target)
            )?;
        }
    }
    writeln!(out, "</tbody>\n</table>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckReport;
    use crate::report::html::render;
    use crate::report::html::tests::view;

    #[test]
    fn mapping_targets_name_the_service_type() {
        let report = CheckReport {
            coverage: vec![
                TypeCoverage {
                    source: "gammel <EPJ>".into(),
                    local_type: "HJSPL".into(),
                    services: 1_500,
                    target: MapsTo::Service("15".parse().unwrap()),
                    mapped: true,
                },
                TypeCoverage {
                    source: "gammel <EPJ>".into(),
                    local_type: "BOLIG".into(),
                    services: 1,
                    target: MapsTo::Retired("12".parse().unwrap()),
                    mapped: false,
                },
            ],
            ..CheckReport::default()
        };
        let nb = render(&view(&report), Language::Nb);
        assert!(nb.contains("<td>15 Helsetjenester i hjemmet</td>"), "{nb}");
        assert!(
            nb.contains("utgått kode 12 Omsorgsbolig (erstattet av 29)"),
            "{nb}"
        );
        assert!(
            nb.contains("<strong>99,9\u{a0}%</strong> av tjenestene"),
            "{nb}"
        );
        let en = render(&view(&report), Language::En);
        assert!(en.contains("<td>15 Helsetjenester i hjemmet (health care at home)</td>"));
        assert!(
            en.contains("<strong>99.9%</strong> of services are mapped (1,500 of 1,501)"),
            "{en}"
        );
    }
}
