//! Progress of a rolling update: a bar redrawn in place on a terminal, plain lines otherwise.

use std::io::Write;

/// Width of the bar between its brackets.
const BAR_WIDTH: usize = 30;

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// `\r[=====>    ] 2/5`, redrawn in place (stdout is a terminal).
    Bar,
    /// One line per replaced pod: `Updating NAME: pod X replaced by Y (2/5)` (or `pod X
    /// deleted (2/5)` when the controller has more pods than replicas).
    Lines,
}

impl Progress {
    /// The bar on a terminal, lines otherwise.
    pub fn for_stdout() -> Progress {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() {
            Progress::Bar
        } else {
            Progress::Lines
        }
    }

    /// Reports that `old` was replaced by `new` (or deleted, when `None`), the `done`-th of
    /// `total`.
    pub fn replaced(
        self,
        out: &mut dyn Write,
        controller: &str,
        old: &str,
        new: Option<&str>,
        done: usize,
        total: usize,
    ) -> std::io::Result<()> {
        match (self, new) {
            (Progress::Bar, _) => write!(out, "\r{}", bar(done, total))?,
            (Progress::Lines, Some(new)) => writeln!(
                out,
                "Updating {controller}: pod {old} replaced by {new} ({done}/{total})"
            )?,
            (Progress::Lines, None) => writeln!(
                out,
                "Updating {controller}: pod {old} deleted ({done}/{total})"
            )?,
        }
        out.flush()
    }

    /// Draws the empty bar before the first replacement.
    pub fn start(self, out: &mut dyn Write, total: usize) -> std::io::Result<()> {
        if self == Progress::Bar {
            write!(out, "{}", bar(0, total))?;
            out.flush()?;
        }
        Ok(())
    }

    /// Ends the bar's line (nothing for lines).
    pub fn finish(self, out: &mut dyn Write) -> std::io::Result<()> {
        if self == Progress::Bar {
            writeln!(out)?;
        }
        out.flush()
    }
}

/// `[=====>    ] done/total`: `=` for the share done, `>` at its head while unfinished.
pub fn bar(done: usize, total: usize) -> String {
    let filled = (done * BAR_WIDTH).checked_div(total).unwrap_or(BAR_WIDTH);
    let filled = filled.min(BAR_WIDTH);
    let mut inner = "=".repeat(filled);
    if filled < BAR_WIDTH {
        inner.push('>');
        inner.push_str(&" ".repeat(BAR_WIDTH - filled - 1));
    }
    format!("[{inner}] {done}/{total}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars() {
        let cases = [
            (0, 5, format!("[>{}] 0/5", " ".repeat(29))),
            (2, 5, format!("[{}>{}] 2/5", "=".repeat(12), " ".repeat(17))),
            (5, 5, format!("[{}] 5/5", "=".repeat(30))),
            (0, 0, format!("[{}] 0/0", "=".repeat(30))),
        ];
        for (done, total, want) in cases {
            assert_eq!(bar(done, total), want, "{done}/{total}");
        }
    }

    #[test]
    fn lines_and_bar_output() {
        let mut lines = Vec::new();
        Progress::Lines.start(&mut lines, 2).unwrap();
        Progress::Lines
            .replaced(&mut lines, "web", "web-x", None, 1, 2)
            .unwrap();
        Progress::Lines
            .replaced(&mut lines, "web", "web-a", Some("web-b"), 2, 2)
            .unwrap();
        Progress::Lines.finish(&mut lines).unwrap();
        assert_eq!(
            String::from_utf8(lines).unwrap(),
            "Updating web: pod web-x deleted (1/2)\nUpdating web: pod web-a replaced by web-b (2/2)\n"
        );
        let mut drawn = Vec::new();
        Progress::Bar.start(&mut drawn, 2).unwrap();
        Progress::Bar
            .replaced(&mut drawn, "web", "web-a", Some("web-b"), 2, 2)
            .unwrap();
        Progress::Bar.finish(&mut drawn).unwrap();
        assert_eq!(
            String::from_utf8(drawn).unwrap(),
            format!("{}\r{}\n", bar(0, 2), bar(2, 2))
        );
    }
}
