//! [`OpenApiError`].

use crate::scope::TooManyAlternatives;

/// Why a security declaration or a document was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenApiError {
    /// A requirement expands to more alternatives than a `security` list may hold.
    #[error(transparent)]
    TooManyAlternatives(#[from] TooManyAlternatives),
    /// The same operation was declared twice.
    #[error("{operation} is declared twice")]
    Duplicate {
        /// `METHOD /path`.
        operation: String,
    },
    /// [`SecuritySchemes`](crate::openapi::SecuritySchemes) names no scheme: no OAuth 2.0 flow and no bearer scheme.
    #[error("no security scheme: call .client_credentials(token_url), .authorization_code(..) or .bearer_jwt() on SecuritySchemes")]
    NoScheme,
    /// The OAuth 2.0 and the bearer scheme have the same name.
    #[error("the oauth2 and the bearer scheme are both named {0:?}")]
    SameName(String),
    /// The document and the declared operations differ.
    #[error(
        "the OpenAPI document and the declared security differ:{}{}",
        list(" declared but not in the document: ", missing),
        list(
            " in the document but not declared (declare them, as public if they are): ",
            undeclared
        )
    )]
    Mismatch {
        /// Declared operations the document lacks (`METHOD /path`).
        missing: Vec<String>,
        /// Operations of the document that were not declared.
        undeclared: Vec<String>,
    },
}

fn list(prefix: &str, items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!("{prefix}{};", items.join(", "))
    }
}
