//! `-` for standard input and output, and a standard output that ends quietly on a closed pipe.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use clap::builder::TypedValueParser as _;

use crate::atomic;

/// Where an input comes from: a file, or standard input (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// Parses a command-line value: `-` is standard input.
    pub fn parse(value: &OsStr) -> Input {
        if value == "-" {
            Input::Stdin
        } else {
            Input::File(PathBuf::from(value))
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Stdin => f.write_str("standard input"),
            Input::File(path) => path.display().fmt(f),
        }
    }
}

/// Where an output goes: a file (written whole or not at all), or standard output (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Standard output.
    Stdout,
    /// A file.
    File(PathBuf),
}

impl Output {
    /// Parses a command-line value: `-` is standard output.
    pub fn parse(value: &OsStr) -> Output {
        if value == "-" {
            Output::Stdout
        } else {
            Output::File(PathBuf::from(value))
        }
    }
}

/// A clap value parser of an input file name, `-` for standard input.
pub fn input_arg() -> impl clap::builder::TypedValueParser<Value = Input> {
    clap::builder::OsStringValueParser::new().map(|s| Input::parse(&s))
}

/// A clap value parser of an output file name, `-` for standard output.
pub fn output_arg() -> impl clap::builder::TypedValueParser<Value = Output> {
    clap::builder::OsStringValueParser::new().map(|s| Output::parse(&s))
}

/// A clap value parser of a file to write that cannot be standard output.
pub fn file_arg(value: &str) -> std::result::Result<PathBuf, String> {
    if value == "-" {
        Err("standard output (`-`) carries the report: give a file name".to_owned())
    } else {
        Ok(PathBuf::from(value))
    }
}

/// Writes what `write` produces to `out` (standard output when `None`).
pub fn output<T>(out: Option<&Output>, write: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
    match out {
        Some(Output::File(path)) => atomic::write_file(path, write),
        Some(Output::Stdout) | None => {
            let mut stdout = stdout();
            let value = write(&mut stdout)?;
            stdout.flush()?;
            Ok(value)
        }
    }
}

/// Standard output; a write to a closed pipe (`wbill … | head -1`) ends the process
/// quietly, as SIGPIPE ends other Unix tools (status 141 in a shell), after removing any
/// temporary file.
pub fn stdout() -> Stdout {
    Stdout(io::stdout())
}

/// See [`stdout`].
pub struct Stdout(io::Stdout);

#[cfg(unix)]
use signal_hook::consts::SIGPIPE;
/// SIGPIPE's number where there is no such signal: the exit status is 128 + 13, as a shell shows
/// a death by SIGPIPE.
#[cfg(not(unix))]
const SIGPIPE: i32 = 13;

fn quiet_on_closed_pipe<T>(result: io::Result<T>) -> io::Result<T> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => atomic::die_of(SIGPIPE),
        other => other,
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        quiet_on_closed_pipe(self.0.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        quiet_on_closed_pipe(self.0.write_all(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        quiet_on_closed_pipe(self.0.flush())
    }
}
