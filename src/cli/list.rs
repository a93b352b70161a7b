//! `reqlock list`: every requirement pip would collect, after includes.

use super::args::{DataFormat, ListArgs};
use super::output::{emit, write_stdout};
use super::{read_requirements, Error, Status};
use crate::report;

pub(super) fn run(args: &ListArgs) -> Result<Status, Error> {
    let set = read_requirements(&args.files)?;
    match args.format {
        DataFormat::Json => emit(|out| report::json::write_list_document(out, &set))?,
        DataFormat::Table => write_stdout(&report::table::list_table(
            &set,
            report::stdout_wants_color(),
        ))?,
    }
    eprintln!(
        "{} requirement(s) from {} file(s)",
        set.requirements.len(),
        set.files.len()
    );
    Ok(Status::Clean)
}
