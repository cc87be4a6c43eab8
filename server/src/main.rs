//! `pairwise`: serve the app, or run an operation on its database.

use std::{io::BufRead, path::PathBuf};

use anyhow::Context;
use app::accounts::model::Role;
use clap::{Parser, Subcommand};
use server::{
    backup,
    config::Config,
    course_files, db, demo,
    startup::{self, Application},
    telemetry,
};

// The server process only (the grader keeps the system allocator under its memory limits).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "pairwise",
    about = "Pairwise: self-hosted technical mentoring",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write the whole database and the media folder to the archive FILE (a running server
    /// of the same data directory writes it while it keeps serving).
    Backup { file: PathBuf },
    /// Load the archive FILE into an empty data directory (the server stopped).
    Restore { file: PathBuf },
    /// Courses as code: import or export a course folder.
    Course {
        #[command(subcommand)]
        command: CourseCommand,
    },
    /// Fill the database with a synthetic learning history for the benchmarks (stop the
    /// server first): LEARNERS learners of COURSES courses, generated from SEED.
    SeedHistory {
        #[arg(long, default_value_t = 10_000)]
        learners: u32,
        #[arg(long, default_value_t = 500)]
        courses: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Fill the forum for its benchmarks (stop the server first): THREADS questions of
    /// REPLIES answers each and one of BIG answers; prints the big thread's key.
    SeedForum {
        #[arg(long, default_value_t = 10_000)]
        threads: u32,
        #[arg(long, default_value_t = 9)]
        replies: u32,
        #[arg(long, default_value_t = 500)]
        big: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Make a room whose shared code was typed in STEPS keystrokes, for the replay benchmark
    /// (stop the server first); prints the room's key.
    SeedRoom {
        #[arg(long, default_value_t = 20_500)]
        steps: u64,
        /// Each step a paste replacing the whole text with this many bytes (not a keystroke).
        #[arg(long)]
        paste_bytes: Option<usize>,
    },
}

#[derive(Subcommand)]
enum CourseCommand {
    /// Write the course with address SLUG into DIR (course.toml, Markdown files, media).
    Export { slug: String, dir: PathBuf },
    /// Create or replace a course from DIR; problems are reported with file and line.
    Import { dir: PathBuf },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin account; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

/// Stack of each runtime worker thread. SurrealDB evaluates a query's expressions in futures
/// polled on the worker's stack; in an unoptimised build a submission's transaction (its
/// `IF`/`UPSERT` arithmetic) overflowed tokio's default 2 MiB (`reblessive::Stack::alloc_future`
/// under `exercises::repo::create_submission`). 8 MiB is what a main thread gets; it is
/// address space, touched only when used.
const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env()?;
    telemetry::init(&config.log_filter, config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config).await?;
            tracing::info!(addr = %app.local_addr(), "Pairwise is listening");
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate => {
            let (db, n) = db::open_and_migrate(&config.database).await?;
            println!("{n} migration(s) applied");
            startup::close_db(db).await;
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::Create { email, name },
        } => {
            eprintln!("password for {email} (8 to 128 characters), then Enter:");
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let mut cfg = config;
            cfg.demo = false;
            let origin = cfg.public_origin().to_string();
            let state = startup::build_state(&cfg, origin, Default::default()).await?;
            demo::create_account(&state, &email, &name, password, &[Role::Admin]).await?;
            println!("admin {email} created");
            startup::close_db(state.db).await;
            Ok(())
        }
        Command::Course { command } => {
            let mut cfg = config;
            cfg.demo = false;
            let origin = cfg.public_origin().to_string();
            let state = startup::build_state(&cfg, origin, Default::default()).await?;
            let result = match command {
                CourseCommand::Export { slug, dir } => {
                    course_files::export(&state, &cfg.media_dir(), &slug, &dir)
                        .await
                        .map(|()| println!("course {slug} written to {}", dir.display()))
                }
                CourseCommand::Import { dir } => {
                    course_files::import(&state, &cfg.media_dir(), &dir)
                        .await
                        .map(|slug| println!("course {slug} imported from {}", dir.display()))
                }
            };
            startup::close_db(state.db).await;
            result
        }
        Command::SeedHistory {
            learners,
            courses,
            seed,
        } => {
            let mut cfg = config;
            cfg.demo = false;
            let origin = cfg.public_origin().to_string();
            let state = startup::build_state(&cfg, origin, Default::default()).await?;
            let started = std::time::Instant::now();
            let result = server::seed::history(&state, learners, courses, seed).await;
            if let Ok((l, c, e, rows)) = &result {
                println!(
                    "seeded {l} learners, {c} courses, {e} enrolments ({rows} rows) in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            startup::close_db(state.db).await;
            result.map(|_| ())
        }
        Command::SeedForum {
            threads,
            replies,
            big,
            seed,
        } => {
            let mut cfg = config;
            cfg.demo = false;
            let origin = cfg.public_origin().to_string();
            let state = startup::build_state(&cfg, origin, Default::default()).await?;
            let started = std::time::Instant::now();
            let result = server::seed::forum(&state, threads, replies, big, seed).await;
            if let Ok((thread, posts)) = &result {
                println!(
                    "{thread}\nseeded {posts} forum posts in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            startup::close_db(state.db).await;
            result.map(|_| ())
        }
        Command::SeedRoom { steps, paste_bytes } => {
            let mut cfg = config;
            cfg.demo = false;
            let origin = cfg.public_origin().to_string();
            let state = startup::build_state(&cfg, origin, Default::default()).await?;
            let started = std::time::Instant::now();
            let result = server::seed::room(&state, steps, paste_bytes).await;
            if let Ok(room) = &result {
                println!(
                    "{room}\nseeded room {room} with {steps} steps in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            startup::close_db(state.db).await;
            result.map(|_| ())
        }
        Command::Backup { file } => {
            let file = std::path::absolute(&file)
                .with_context(|| format!("the path {}", file.display()))?;
            // A running server holds the embedded database: it writes the backup itself.
            let bytes =
                match backup::ask_server(&backup::control_path(&config.data_dir), &file).await? {
                    Some(bytes) => bytes,
                    None => {
                        let db = db::connect_db(&config.database).await?;
                        let bytes = backup::backup(&db, &config.media_dir(), &file).await;
                        startup::close_db(db).await;
                        bytes?
                    }
                };
            println!("backup written to {} ({bytes} bytes)", file.display());
            Ok(())
        }
        Command::Restore { file } => {
            let db = db::connect_db(&config.database).await?;
            backup::restore(&db, &config.media_dir(), &file).await?;
            db::migrate(&db).await?;
            println!("restored from {}", file.display());
            startup::close_db(db).await;
            Ok(())
        }
    }
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received");
}
