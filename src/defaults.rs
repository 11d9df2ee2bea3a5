//! The files the service is configured by — the review workflow, the screening rule book, the
//! working-day calendar and the templates (e-mail, opinion letter, web pages) — built into the
//! binary, so that it runs from any directory. An operator overrides any of them with
//! `--workflow`, `--rules`, `--calendar` and `--templates-dir`, and `defaults export DIR` writes
//! the built-in ones out to start from.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use include_dir::{Dir, include_dir};

static WORKFLOWS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/workflows");
static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

const WORKFLOW_FILE: &str = "contract-review.toml";
const RULES_FILE: &str = "screening-rules.toml";
const CALENDAR_FILE: &str = "calendar-cn.toml";

/// One configuration file: where it came from (for messages) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// A path on disk, or `built-in:workflows/…` for an embedded file.
    pub origin: String,
    /// The file's name within its folder, e.g. `email/approved.md`.
    pub name: String,
    pub text: String,
}

/// The operator's replacements for the built-in files; `None` keeps the built-in one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub workflow: Option<PathBuf>,
    pub rules: Option<PathBuf>,
    pub calendar: Option<PathBuf>,
    /// A folder laid out like the built-in templates (`opinion.md`, `email/*.md`, `web/*`); the
    /// files in it replace or add to the built-in ones of the same name.
    pub templates_dir: Option<PathBuf>,
}

impl Overrides {
    /// The review workflow definition.
    ///
    /// # Errors
    /// An unreadable override file.
    pub fn workflow(&self) -> anyhow::Result<Source> {
        file_or_builtin(
            self.workflow.as_deref(),
            &WORKFLOWS,
            "workflows",
            WORKFLOW_FILE,
        )
    }

    /// The screening rule book.
    ///
    /// # Errors
    /// An unreadable override file.
    pub fn rules(&self) -> anyhow::Result<Source> {
        file_or_builtin(self.rules.as_deref(), &WORKFLOWS, "workflows", RULES_FILE)
    }

    /// The public holidays and make-up working days.
    ///
    /// # Errors
    /// An unreadable override file.
    pub fn calendar(&self) -> anyhow::Result<Source> {
        file_or_builtin(
            self.calendar.as_deref(),
            &WORKFLOWS,
            "workflows",
            CALENDAR_FILE,
        )
    }

    /// The templates of one kind (`""` for the top folder with `opinion.md`, `email`, `web`),
    /// the built-in ones with the operator's files laid over them, sorted by name.
    ///
    /// # Errors
    /// An override folder or file that cannot be read, or a file that is not UTF-8.
    pub fn templates(&self, folder: &str) -> anyhow::Result<Vec<Source>> {
        let mut sources = builtin_templates(folder)?;
        if let Some(dir) = &self.templates_dir {
            for source in templates_on_disk(&dir.join(folder), folder)? {
                tracing::info!(template = %source.origin, "using the operator's template");
                sources.retain(|s| s.name != source.name);
                sources.push(source);
            }
        }
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(sources)
    }
}

fn file_or_builtin(
    path: Option<&Path>,
    dir: &Dir<'static>,
    folder: &str,
    name: &str,
) -> anyhow::Result<Source> {
    match path {
        Some(path) => Ok(Source {
            origin: path.display().to_string(),
            name: name.to_owned(),
            text: std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        }),
        None => builtin(dir, folder, name),
    }
}

fn builtin(dir: &Dir<'static>, folder: &str, name: &str) -> anyhow::Result<Source> {
    let file = dir
        .get_file(name)
        .with_context(|| format!("the built-in {folder}/{name} is missing from this build"))?;
    let text = file
        .contents_utf8()
        .with_context(|| format!("the built-in {folder}/{name} is not UTF-8"))?;
    Ok(Source {
        origin: format!("built-in:{folder}/{name}"),
        name: name.to_owned(),
        text: text.to_owned(),
    })
}

/// The built-in files directly in `templates/<folder>`.
fn builtin_templates(folder: &str) -> anyhow::Result<Vec<Source>> {
    let dir = if folder.is_empty() {
        &TEMPLATES
    } else {
        TEMPLATES
            .get_dir(folder)
            .with_context(|| format!("the built-in templates/{folder} is missing"))?
    };
    dir.files()
        .map(|file| {
            let name = relative_name(file.path());
            let text = file
                .contents_utf8()
                .with_context(|| format!("the built-in templates/{name} is not UTF-8"))?;
            Ok(Source {
                origin: format!("built-in:templates/{name}"),
                name,
                text: text.to_owned(),
            })
        })
        .collect()
}

/// The files directly in `dir` (which need not exist: then there are none).
fn templates_on_disk(dir: &Path, folder: &str) -> anyhow::Result<Vec<Source>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut sources = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading the templates in {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            bail!("{} has a name that is not UTF-8", path.display());
        };
        let name = if folder.is_empty() {
            file_name.to_owned()
        } else {
            format!("{folder}/{file_name}")
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        sources.push(Source {
            origin: path.display().to_string(),
            name,
            text,
        });
    }
    Ok(sources)
}

/// `email/approved.md` for an embedded path, with `/` on every platform.
fn relative_name(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Writes every built-in file under `dir` (`workflows/…`, `templates/…`) and returns the paths
/// written. Existing files are kept unless `overwrite` is set.
///
/// # Errors
/// A file that exists already (without `overwrite`), or one that cannot be written.
pub fn export(dir: &Path, overwrite: bool) -> anyhow::Result<Vec<PathBuf>> {
    let files = embedded_files();
    if !overwrite {
        let existing: Vec<String> = files
            .iter()
            .map(|(path, _)| dir.join(path))
            .filter(|path| path.exists())
            .map(|path| path.display().to_string())
            .collect();
        if !existing.is_empty() {
            bail!(
                "these files exist already; pass --force to overwrite them:\n  {}",
                existing.join("\n  ")
            );
        }
    }
    let mut written = Vec::new();
    for (path, contents) in files {
        let target = dir.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&target, contents)
            .with_context(|| format!("writing {}", target.display()))?;
        written.push(target);
    }
    Ok(written)
}

/// Every embedded file with its path relative to the project root.
fn embedded_files() -> Vec<(PathBuf, &'static [u8])> {
    let mut files = Vec::new();
    for (root, dir) in [("workflows", &WORKFLOWS), ("templates", &TEMPLATES)] {
        collect(dir, Path::new(root), &mut files);
    }
    files
}

fn collect(dir: &Dir<'static>, root: &Path, out: &mut Vec<(PathBuf, &'static [u8])>) {
    for file in dir.files() {
        out.push((root.join(file.path()), file.contents()));
    }
    for sub in dir.dirs() {
        collect(sub, root, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_files_are_there() {
        let none = Overrides::default();
        assert!(none.workflow().unwrap().text.contains("[[transitions]]"));
        assert!(
            none.rules()
                .unwrap()
                .origin
                .ends_with("screening-rules.toml")
        );
        assert!(none.calendar().unwrap().origin.starts_with("built-in:"));
        let emails = none.templates("email").unwrap();
        assert!(
            emails.iter().any(|s| s.name == "email/approved.md"),
            "{emails:?}"
        );
        let top = none.templates("").unwrap();
        assert!(top.iter().any(|s| s.name == "opinion.md"));
        assert!(top.iter().all(|s| !s.name.contains('/')));
    }

    #[test]
    fn an_operator_file_replaces_the_built_in_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("email")).unwrap();
        std::fs::write(dir.path().join("email/approved.md"), "mine").unwrap();
        std::fs::write(dir.path().join("email/extra.md"), "new").unwrap();
        let overrides = Overrides {
            templates_dir: Some(dir.path().to_owned()),
            ..Overrides::default()
        };
        let emails = overrides.templates("email").unwrap();
        let approved: Vec<_> = emails
            .iter()
            .filter(|s| s.name == "email/approved.md")
            .collect();
        assert_eq!(approved.len(), 1);
        assert_eq!(approved[0].text, "mine");
        assert!(emails.iter().any(|s| s.name == "email/extra.md"));
        assert!(emails.iter().any(|s| s.name == "email/rejected.md"));
    }

    #[test]
    fn export_writes_everything_once() {
        let dir = tempfile::tempdir().unwrap();
        let written = export(dir.path(), false).unwrap();
        assert!(
            written
                .iter()
                .any(|p| p.ends_with("workflows/contract-review.toml"))
        );
        assert!(
            written
                .iter()
                .any(|p| p.ends_with("templates/web/site.css"))
        );
        assert!(export(dir.path(), false).is_err(), "refuses to overwrite");
        assert_eq!(export(dir.path(), true).unwrap().len(), written.len());
    }
}
