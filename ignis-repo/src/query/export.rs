//! Whole-table export with `COPY ... TO STDOUT`, streamed to the caller's writer.
//!
//! [`Repository::copy_to`](crate::Repository::copy_to) writes the rows the model's table holds,
//! as Postgres formats them (PostgreSQL manual, COPY: `csv`, `text` or `binary`), without
//! decoding them: each `CopyData` message the server sends is written to the writer as it
//! arrives, so memory stays at one row whatever the table's size.
//!
//! **Columns**: the model's columns in model order, hidden properties left out (they never
//! leave the repository). The CSV header, when asked for, names the columns by property name
//! (`createdAt`), as the JSON rows do; it is written by the repository, not by `COPY`'s
//! `HEADER` option, which would write the column names.
//!
//! **Rows**: every row of the table, unless the model has a default filter the handle does
//! not skip: then the rows that filter lets through (`COPY (SELECT .. WHERE ..) TO STDOUT`),
//! as `find` would. `COPY` takes no bound parameters, and values never reach SQL as text, so
//! a default filter whose SQL binds values (`{"status": "ACTIVE"}`, unlike `{"deletedAt":
//! null}`) cannot be exported this way: [`RepoError::Unsupported`] says so, and
//! [`Repository::skip_default_filter`](crate::Repository::skip_default_filter) or
//! [`Repository::find_iter`](crate::Repository::find_iter) are the ways out.
//!
//! **Counting rows**: the server sends one `CopyData` message per row (PostgreSQL manual,
//! "COPY Operations": messages sent from the backend always correspond to single data rows),
//! and the binary format adds one trailer message (its header travels with the first row), so
//! the report counts rows without parsing them.

use std::io::{BufRead, Write};

use crate::context::Call;
use crate::filter::Filter;
use crate::RepoError;

use super::sql;

/// The format of a [`Repository::copy_to`](crate::Repository::copy_to) export: Postgres's own
/// `COPY` formats (PostgreSQL manual, COPY, "File Formats").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CopyFormat {
    /// Comma-separated values (`FORMAT csv`): NULL as an empty unquoted field, fields quoted
    /// when they need it. `header`: a first line with the property names.
    Csv {
        /// Write a header line of property names first.
        header: bool,
    },
    /// Postgres's text format (`FORMAT text`): tab-separated, `\N` for NULL, backslash
    /// escapes.
    Text,
    /// Postgres's binary format (`FORMAT binary`): a signature header, each row's values in
    /// their binary send format, a trailer. Readable by `COPY .. FROM` with the same column
    /// types (or the `postgres` crate's `BinaryCopyOutIter`).
    Binary,
}

/// What [`Repository::copy_to`](crate::Repository::copy_to) wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CopyReport {
    /// Rows exported (the header line not counted).
    pub rows: u64,
    /// Bytes written to the writer, header included.
    pub bytes: u64,
}

/// `name` as one CSV field: quoted (quotes doubled) when it holds a delimiter, a quote, a line
/// break or surrounding spaces, as Postgres's CSV output quotes.
fn csv_field(out: &mut String, name: &str) {
    let quote = name.is_empty()
        || name.contains([',', '"', '\n', '\r'])
        || name.starts_with(' ')
        || name.ends_with(' ');
    if quote {
        out.push('"');
        out.push_str(&name.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(name);
    }
}

impl Call<'_> {
    /// The export statement of the handle's model in `format` (see the module documentation):
    /// the exported model columns and the SQL.
    ///
    /// # Errors
    /// [`RepoError::Unsupported`] for a default filter that binds values; the default filter's
    /// own errors.
    fn copy_statement(&self, format: CopyFormat) -> Result<(Vec<usize>, String), RepoError> {
        let model = self.model();
        let filter = Filter::parse_with_defaults(
            model,
            self.schema(),
            &serde_json::Value::Null,
            &self.shared.limits,
            self.opts.skip_default_filter,
        )?;
        let whole = Filter {
            r#where: None,
            ..Filter::default()
        };
        let columns = sql::selected_columns(model, &whole, &[]);
        let names = self.names();
        let mut copy = String::from("COPY ");
        match (&filter.r#where, columns.is_empty()) {
            (None, false) => {
                copy.push_str(&names.table);
                copy.push_str(" (");
                for (n, &c) in columns.iter().enumerate() {
                    if n > 0 {
                        copy.push_str(", ");
                    }
                    copy.push_str(&names.columns[c]);
                }
                copy.push(')');
            }
            _ => {
                let only_where = Filter {
                    r#where: filter.r#where.clone(),
                    ..Filter::default()
                };
                let (select, values) = sql::select(names, &columns, &only_where).finish();
                if !values.as_params().is_empty() {
                    return Err(RepoError::Unsupported {
                        model: model.name.clone(),
                        message: "COPY takes no bound values, and this model's default filter \
                                  binds some; export with .skip_default_filter() (every row) \
                                  or read the rows with find_iter"
                            .into(),
                    });
                }
                copy.push('(');
                copy.push_str(&select);
                copy.push(')');
            }
        }
        copy.push_str(match format {
            CopyFormat::Csv { .. } => " TO STDOUT (FORMAT csv)",
            CopyFormat::Text => " TO STDOUT (FORMAT text)",
            CopyFormat::Binary => " TO STDOUT (FORMAT binary)",
        });
        Ok((columns, copy))
    }

    /// Streams the export of the handle's model to `writer` (see the module documentation).
    ///
    /// # Errors
    /// As [`Call::copy_statement`]; the server's error; [`RepoError::Output`] when `writer`
    /// fails.
    pub(crate) fn copy_to(
        &mut self,
        writer: &mut dyn Write,
        format: CopyFormat,
    ) -> Result<CopyReport, RepoError> {
        let (columns, copy) = self.copy_statement(format)?;
        let model = self.model();
        let output = |source: std::io::Error| RepoError::Output {
            model: model.name.clone(),
            source,
        };
        let mut report = CopyReport::default();
        if let CopyFormat::Csv { header: true } = format {
            let mut line = String::new();
            for (n, &c) in columns.iter().enumerate() {
                if n > 0 {
                    line.push(',');
                }
                csv_field(&mut line, &model.columns[c].property);
            }
            line.push('\n');
            writer.write_all(line.as_bytes()).map_err(output)?;
            report.bytes += line.len() as u64;
        }
        let mut messages: u64 = 0;
        let result = (|| {
            let mut reader = self
                .exec
                .client()?
                .copy_out(copy.as_str())
                .map_err(|e| RepoError::from(ignis_tx::Error::from(e)))?;
            loop {
                let chunk = reader.fill_buf().map_err(read_error)?;
                if chunk.is_empty() {
                    return Ok(());
                }
                let n = chunk.len();
                writer.write_all(chunk).map_err(output)?;
                reader.consume(n);
                messages += 1;
                report.bytes += n as u64;
            }
        })();
        if let Err(e) = result {
            // The statement ran on the raw client, outside ignis-tx's failure tracking: one
            // statement through the executor lets it see a failed transaction (the server
            // refuses it there), so a commit of the caller's transaction reports the failure.
            let _ = self.exec.execute("SELECT 1", &[]);
            return Err(e);
        }
        report.rows = match format {
            CopyFormat::Binary => messages.saturating_sub(1),
            CopyFormat::Csv { .. } | CopyFormat::Text => messages,
        };
        Ok(report)
    }
}

/// A failure reading the `COPY` data: the server's or the connection's error.
fn read_error(e: std::io::Error) -> RepoError {
    let inner = e.into_inner();
    match inner.map(|b| b.downcast::<postgres::Error>()) {
        Some(Ok(pg)) => RepoError::from(ignis_tx::Error::from(*pg)),
        Some(Err(other)) => RepoError::Database(ignis_tx::Error::Config(format!(
            "reading COPY data failed: {other}"
        ))),
        None => RepoError::Database(ignis_tx::Error::Config(
            "reading COPY data failed".to_string(),
        )),
    }
}
