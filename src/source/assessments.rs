//! A source's assessments, held compactly. They are most of an extract's rows (a person has
//! one per variable, seventeen or so), and each row as a record would carry its person's id
//! and its variable's name: 56 bytes. Here a row is 16: the person by its place among the
//! runs of one person's rows, the variable by its place among the distinct names, the date
//! and the score: a large municipality's year of assessments in under a third of the memory.

use std::fmt;

use chrono::NaiveDate;
use compact_str::CompactString;

use crate::model::Assessment;

/// The assessments in the order they were read.
#[derive(Clone, Default)]
pub struct Assessments {
    rows: Vec<Row>,
    persons: Runs,
    variables: Distinct,
}

#[derive(Clone, Copy)]
struct Row {
    person: u32,
    variable: u32,
    assessed_on: Option<NaiveDate>,
    score: u8,
}

/// One assessment as held, borrowed: the fields of [`Assessment`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssessmentRef<'a> {
    pub person_id: &'a str,
    pub assessed_on: Option<NaiveDate>,
    pub variable: &'a str,
    pub score: u8,
}

impl AssessmentRef<'_> {
    pub fn to_assessment(self) -> Assessment {
        Assessment {
            person_id: self.person_id.into(),
            assessed_on: self.assessed_on,
            variable: self.variable.into(),
            score: self.score,
        }
    }
}

impl Assessments {
    pub fn push(&mut self, assessment: Assessment) {
        let row = self.row(assessment);
        self.rows.push(row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, at: usize) -> Option<AssessmentRef<'_>> {
        self.rows.get(at).map(|row| self.view(row))
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            rows: self.rows.iter(),
            all: self,
        }
    }

    /// Changes the assessment at `at` (a test's way to make one wrong).
    pub fn update(&mut self, at: usize, change: impl FnOnce(&mut Assessment)) {
        let mut assessment = self.view(&self.rows[at]).to_assessment();
        change(&mut assessment);
        self.rows[at] = self.row(assessment);
    }

    fn row(&mut self, assessment: Assessment) -> Row {
        Row {
            person: self.persons.place(assessment.person_id),
            variable: self.variables.place(assessment.variable),
            assessed_on: assessment.assessed_on,
            score: assessment.score,
        }
    }

    fn view(&self, row: &Row) -> AssessmentRef<'_> {
        AssessmentRef {
            person_id: self.persons.text(row.person),
            assessed_on: row.assessed_on,
            variable: self.variables.text(row.variable),
            score: row.score,
        }
    }
}

/// The assessments in their order, borrowed.
pub struct Iter<'a> {
    rows: std::slice::Iter<'a, Row>,
    all: &'a Assessments,
}

impl<'a> Iterator for Iter<'a> {
    type Item = AssessmentRef<'a>;

    fn next(&mut self) -> Option<AssessmentRef<'a>> {
        self.rows.next().map(|row| self.all.view(row))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Assessments {
    type Item = AssessmentRef<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl FromIterator<Assessment> for Assessments {
    fn from_iter<I: IntoIterator<Item = Assessment>>(items: I) -> Self {
        let mut all = Assessments::default();
        all.extend(items);
        all
    }
}

impl Extend<Assessment> for Assessments {
    fn extend<I: IntoIterator<Item = Assessment>>(&mut self, items: I) {
        for assessment in items {
            self.push(assessment);
        }
    }
}

/// Equal when they hold the same assessments in the same order, however they are numbered.
impl PartialEq for Assessments {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Assessments {}

impl fmt::Debug for Assessments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Person ids as they come, in runs (one person's rows together): an id equal to the one
/// before shares its place, any other gets a new one even if it came earlier. A repeat then
/// costs one more id, never a lookup table of every person.
#[derive(Clone, Default)]
struct Runs {
    texts: Vec<CompactString>,
}

impl Runs {
    fn place(&mut self, text: CompactString) -> u32 {
        if self.texts.last() != Some(&text) {
            self.texts.push(text);
        }
        u32::try_from(self.texts.len() - 1).expect("fewer than 4 billion runs")
    }

    fn text(&self, place: u32) -> &str {
        &self.texts[place as usize]
    }
}

/// Distinct texts, each with its place. The place given last, and the one after it, are
/// tried before a lookup: one person's rows come together, and their variables in one order.
#[derive(Clone, Default)]
struct Distinct {
    texts: Vec<CompactString>,
    places: foldhash::HashMap<CompactString, u32>,
    last: u32,
}

impl Distinct {
    fn place(&mut self, text: CompactString) -> u32 {
        let near = [self.last, self.last + 1, 0]
            .into_iter()
            .find(|&place| self.texts.get(place as usize) == Some(&text));
        let place = match near.or_else(|| self.places.get(&text).copied()) {
            Some(place) => place,
            None => {
                let place =
                    u32::try_from(self.texts.len()).expect("fewer than 4 billion distinct values");
                self.texts.push(text.clone());
                self.places.insert(text, place);
                place
            }
        };
        self.last = place;
        place
    }

    fn text(&self, place: u32) -> &str {
        &self.texts[place as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assessment(person: &str, variable: &str, score: u8) -> Assessment {
        Assessment {
            person_id: person.into(),
            assessed_on: NaiveDate::from_ymd_opt(2025, 3, 1),
            variable: variable.into(),
            score,
        }
    }

    #[test]
    fn gives_back_what_it_was_given_in_order() {
        let given = vec![
            assessment("p1", "V01", 1),
            assessment("p1", "V02", 9),
            assessment("p2", "V01", 3),
            assessment("p1", "V01", 7),
        ];
        let held: Assessments = given.iter().cloned().collect();
        let back: Vec<Assessment> = held.iter().map(AssessmentRef::to_assessment).collect();
        assert_eq!(back, given);
        assert_eq!(held.len(), 4);
        assert_eq!(held.get(3).map(|a| a.person_id), Some("p1"));
    }

    #[test]
    fn equal_by_content_and_order() {
        let a: Assessments = [assessment("p1", "V01", 1), assessment("p2", "V02", 2)]
            .into_iter()
            .collect();
        let mut b: Assessments = [assessment("p2", "V02", 2)].into_iter().collect();
        assert_ne!(a, b);
        b = [assessment("p1", "V01", 1), assessment("p2", "V02", 2)]
            .into_iter()
            .collect();
        assert_eq!(a, b);
        b.update(1, |x| x.score = 5);
        assert_ne!(a, b);
        assert_eq!(b.get(1).map(|x| x.score), Some(5));
    }
}
