//! The command line: the same binary serves, migrates, and administers (SPEC §4).

mod accounts;
mod password_input;
mod transfer;

use std::process::ExitCode;

use crate::{
    config::{AdminCommand, Cli, Command, Config, GroupCommand, ImportsCommand},
    startup::{Application, shutdown_signal},
    storage::{ImportOptions, Storage},
};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::from_settings(&cli.settings)?;
    tracing::debug!(?config, "configuration");
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            Application::build(config)
                .await?
                .run_until(shutdown_signal())
                .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            open(&config).await?;
            eprintln!("Migrations applied.");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::Create {
            email,
            name,
            master,
            groups,
        }) => {
            accounts::create_admin(
                &open(&config).await?,
                &config,
                &email,
                &name,
                master,
                &groups,
            )
            .await
        }
        Command::Admin(AdminCommand::Password { email }) => {
            accounts::set_admin_password(&open(&config).await?, &config, &email).await
        }
        Command::Group(GroupCommand::Create { path }) => {
            accounts::create_group(&open(&config).await?, &path).await
        }
        Command::Import {
            group,
            file,
            result,
            mode,
            dry_run,
            must_change_password,
        } => {
            let options = ImportOptions {
                mode,
                dry_run,
                must_change_password,
            };
            let request = transfer::ImportRequest {
                group: &group,
                file: &file,
                result: result.as_deref(),
                options,
            };
            transfer::import(&open(&config).await?, &config, request).await
        }
        Command::Imports(ImportsCommand::Cancel { id }) => {
            transfer::cancel(&open(&config).await?, id).await
        }
        Command::Imports(ImportsCommand::Undo { id }) => {
            transfer::undo(&open(&config).await?, &config, id).await
        }
        Command::Imports(ImportsCommand::List { group }) => {
            transfer::list(&open(&config).await?, &group).await
        }
        Command::Export { group, recursive } => {
            transfer::export(&open(&config).await?, &group, recursive).await
        }
    }
}

async fn open(config: &Config) -> anyhow::Result<Storage> {
    let storage = Storage::connect(&config.database_url).await?;
    storage.migrate().await?;
    Ok(storage)
}
