//! Writing XML into memory: the few shapes the message formats use, every text and attribute
//! escaped by quick-xml.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// An indented document in a `Vec`; writing to memory cannot fail, so nothing here returns
/// an error.
pub(crate) struct Out(Writer<Vec<u8>>);

impl Out {
    /// A document with its declaration: version 1.0, UTF-8.
    pub(crate) fn document(indent: usize) -> Out {
        let mut out = Out(Writer::new_with_indent(Vec::new(), b' ', indent));
        out.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        out
    }

    fn event(&mut self, event: Event) {
        self.0
            .write_event(event)
            .expect("writing to a Vec does not fail");
    }

    pub(crate) fn start(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let element = BytesStart::new(name).with_attributes(attributes.iter().copied());
        self.event(Event::Start(element));
    }

    pub(crate) fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let element = BytesStart::new(name).with_attributes(attributes.iter().copied());
        self.event(Event::Empty(element));
    }

    pub(crate) fn end(&mut self, name: &str) {
        self.event(Event::End(BytesEnd::new(name)));
    }

    /// `<name>text</name>`.
    pub(crate) fn text(&mut self, name: &str, text: &str) {
        self.start(name, &[]);
        self.event(Event::Text(BytesText::new(text)));
        self.end(name);
    }

    /// Bytes as they are: for an XML document already checked to be one element.
    pub(crate) fn raw(&mut self) -> &mut Vec<u8> {
        self.0.get_mut()
    }

    /// The document, ending with a line end.
    pub(crate) fn finish(self) -> Vec<u8> {
        let mut xml = self.0.into_inner();
        xml.push(b'\n');
        xml
    }
}

/// The contacts as the NPR message models write them (`Kontaktperson`, the same in XPR(ide)
/// 53.1.3 and XPR(ipl) 56.0.0), one line each, every value escaped.
pub(crate) fn write_contacts(
    out: &mut impl std::io::Write,
    contacts: &[crate::model::register::Contact],
) -> std::io::Result<()> {
    use quick_xml::escape::escape;
    for contact in contacts {
        write!(
            out,
            r#" <Kontaktperson kontPerson="{}""#,
            escape(&contact.name)
        )?;
        if let Some(phone) = &contact.phone {
            write!(out, r#" meldTelefon="{}""#, escape(phone))?;
        }
        writeln!(
            out,
            r#" meldEpost1="{}" typeKontaktperson="{}"/>"#,
            escape(&contact.email),
            contact.kind
        )?;
    }
    Ok(())
}
