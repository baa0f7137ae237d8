//! `kernel_main`: bringing the machine up after the boot path.

use crate::arch::aarch64::{cpu, exception, gic, semihosting, timer};
use crate::cmdline::CmdLine;
use crate::mm::addr::{PhysAddr, BLOCK_2M, KIMAGE_BASE, PAGE_SIZE};
use crate::mm::physmap::PhysMap;
use crate::platform::{self, Platform};
use crate::{console, logger, mm, BootInfo};
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use tock_registers::interfaces::Readable;

/// RAM below this cannot hold armmap's tables, heap and device buffer.
pub const MIN_RAM: u64 = 32 << 20;

extern "C" {
    static __image_end: u8;
}

/// Stops the boot with a clear message and a failing exit status.
fn boot_fail(msg: &str) -> ! {
    console::print(format_args!("\narmmap: boot failed: {msg}\n"));
    semihosting::exit(1)
}

fn image_size() -> u64 {
    core::ptr::addr_of!(__image_end) as u64 - KIMAGE_BASE
}

/// The kernel's entry point, called by the boot path at EL1 with the MMU on
/// (early tables) and interrupts masked.
#[no_mangle]
pub fn kernel_main(info: BootInfo) -> ! {
    exception::init();
    mm::heap::init_boot();

    // The machine, from the device tree.
    let dtb = mm::phys_to_virt(PhysAddr(info.dtb_pa)).as_u64() as *const u8;
    // SAFETY: the early tables map RAM at its linear-map address and the
    // device tree lies in RAM (QEMU puts it there).
    let plat = match unsafe { platform::parse(dtb, PhysAddr(info.dtb_pa)) } {
        Ok(p) => p,
        Err(e) => boot_fail(e),
    };
    let cmd = CmdLine::parse(&plat.bootargs);
    let ram_size = plat.ram.end - plat.ram.start;
    if ram_size < MIN_RAM {
        boot_fail(&format!(
            "RAM is too small: {} MiB, armmap needs at least {} MiB (try --mem 128M)",
            ram_size >> 20,
            MIN_RAM >> 20
        ));
    }

    // The physical memory map and the frame allocator.
    let mut map = PhysMap::new(plat.ram.clone());
    map.reserve("kernel image", info.image_pa..info.image_pa + image_size());
    map.reserve("device tree", plat.dtb.clone());
    if let Some(r) = &plat.initrd {
        map.reserve("initramfs", r.clone());
    }
    for r in &plat.reserved {
        map.reserve("firmware reserved", r.clone());
    }
    let memdev = map
        .carve("memdev buffer", cmd.memdev_size, BLOCK_2M as u64)
        .unwrap_or_else(|| boot_fail("no room for the memdev buffer (memdev= too large for RAM?)"));
    let heap_size = mm::heap::main_heap_size(plat.ram.end - plat.ram.start);
    let heap = map
        .carve("kernel heap", heap_size as u64, PAGE_SIZE as u64)
        .unwrap_or_else(|| boot_fail("no room for the kernel heap"));
    if let Err(e) = mm::frames_init(&mut map) {
        boot_fail(e);
    }
    // SAFETY: the carved range is RAM reserved in the map (never a frame),
    // mapped read/write by the linear map, and given to the heap for good.
    unsafe { mm::heap::init_main(mm::phys_to_virt(heap).as_u64() as *mut u8, heap_size) };

    // The kernel's own tables, then the console on the UART they map.
    let uart = PhysAddr(plat.uart.start);
    if let Err(e) = mm::kernel_space::init(&info, &plat, &map) {
        boot_fail(e);
    }
    // SAFETY: kernel_space::init mapped the UART's page as device memory.
    unsafe { console::init_uart(mm::phys_to_virt(uart).as_usize()) };
    logger::init(cmd.log);
    banner(&info, &plat, &map, &cmd, memdev);

    // CPU features, interrupts, the timer.
    cpu::init();
    match &plat.gic {
        platform::Gic::V2 { dist, cpu } => gic::init(PhysAddr(dist.start), PhysAddr(cpu.start)),
        platform::Gic::V3 { .. } => boot_fail("GICv3 is not supported: run QEMU with -machine virt,gic-version=2"),
    }
    timer::init();
    crate::vdso::init();
    crate::fs::tty::init(plat.uart_irq);
    crate::arch::aarch64::pmu::init();
    cpu::irq_enable();
    log::info!(
        "interrupts on: GICv2 ({} lines), timer at {} Hz (counter {} MHz)",
        gic::lines(),
        timer::HZ,
        timer::frequency() / 1_000_000
    );

    crate::mm::fault::FAULT_AROUND.store(cmd.fault_around, core::sync::atomic::Ordering::Relaxed);
    if let Some(r) = &plat.initrd {
        let archive = mm::phys_to_virt(PhysAddr(r.start)).as_u64() as *const u8;
        // SAFETY: the initramfs lies in RAM, reserved in the physical map and
        // reachable through the linear map; it is only read.
        let archive = unsafe { core::slice::from_raw_parts(archive, (r.end - r.start) as usize) };
        match crate::fs::vfs::unpack_initramfs(archive) {
            Ok(n) => log::info!("initramfs: {n} files, {} KiB", (r.end - r.start) >> 10),
            Err(e) => log::error!("initramfs: {e}"),
        }
    }
    let attr = match cmd.memdev_attr.as_str() {
        "wc" => crate::mm::backing::CacheMode::WriteCombine,
        "device" => crate::mm::backing::CacheMode::Device,
        _ => crate::mm::backing::CacheMode::Cached,
    };
    crate::fs::dev::init(memdev, cmd.memdev_size, attr);
    crate::fs::proc::init();

    if let Some(filter) = &cmd.ktest {
        crate::ktest::run_all(filter);
    }
    self_check();
    match cmd.crash.as_deref() {
        Some("fault") => {
            log::warn!("crash=fault: reading address 0x8 from the kernel");
            // SAFETY: deliberately unsound: this read faults, and the kernel's
            // fault report ends the machine (what crash=fault is for).
            let v = unsafe { core::ptr::read_volatile(core::ptr::without_provenance::<u64>(8)) };
            log::error!("read {v}: the fault did not happen");
        }
        Some("panic") => panic!("crash=panic on the command line"),
        _ => {}
    }
    crate::task::init();
    BASELINE_FREE.store(mm::frame_counts().0, core::sync::atomic::Ordering::Relaxed);
    // From here on the kernel runs with interrupts masked; they are taken
    // only in user mode and in the idle loop, where no lock is held (the
    // timer interrupt takes the process table's lock).
    cpu::irq_save();
    start_init(&cmd);
    crate::task::sched::idle_loop()
}

/// Free frames when user space started, for the accounting check at shutdown.
static BASELINE_FREE: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

fn start_init(cmd: &CmdLine) {
    let mut argv = alloc::vec![cmd.init.as_bytes().to_vec()];
    argv.extend(cmd.init_args.iter().map(|a| a.as_bytes().to_vec()));
    let mut envp = alloc::vec![b"HOME=/".to_vec(), b"PATH=/bin:/".to_vec(), b"TERM=linux".to_vec()];
    // The command line's NAME=VALUE words replace a default or add to them.
    for kv in &cmd.init_env {
        let name = kv.split_once('=').map_or(kv.as_str(), |(n, _)| n);
        envp.retain(|e| !e.starts_with(name.as_bytes()) || e.get(name.len()) != Some(&b'='));
        envp.push(kv.as_bytes().to_vec());
    }
    match crate::task::exec::spawn(&cmd.init, &argv, &envp, 0) {
        Ok(pid) => log::info!("starting {} as pid {pid}", cmd.init),
        Err(e) => {
            log::error!("cannot start {}: {} ({})", cmd.init, e.name(), e.text());
            shutdown(127)
        }
    }
}

/// Ends the machine after the first process: reports frame accounting and
/// exits QEMU with `code`.
pub fn shutdown(code: u32) -> ! {
    let (free, total) = mm::frame_counts();
    let base = BASELINE_FREE.load(core::sync::atomic::Ordering::Relaxed);
    log::info!("memdev at shutdown: \"{}\"", crate::fs::dev::buffer_string());
    log::info!("frames: {free} free of {total} at shutdown ({base} when user space started)");
    semihosting::exit(code)
}

fn banner(info: &BootInfo, plat: &Platform, map: &PhysMap, cmd: &CmdLine, memdev: PhysAddr) {
    let el = aarch64_cpu::registers::CurrentEL.read(aarch64_cpu::registers::CurrentEL::EL);
    log::info!("armmap {} on {}", env!("CARGO_PKG_VERSION"), plat.model);
    if info.entry_el == 2 {
        log::info!("entered at EL2, running at EL1 (EL2 vectors installed, HCR_EL2.RW=1)");
    } else {
        log::info!("entered at EL{}, running at EL{el}", info.entry_el);
    }
    log::info!("command line: \"{}\"", plat.bootargs);
    for e in &cmd.errors {
        log::warn!("command line: cannot use '{e}', ignored");
    }
    let mut s = String::new();
    let _ = write!(
        s,
        "memory map:\n    RAM {:#x}..{:#x} ({} MiB)",
        plat.ram.start,
        plat.ram.end,
        (plat.ram.end - plat.ram.start) >> 20
    );
    let mut reserved = map.reserved.clone();
    reserved.sort_by_key(|r| r.range.start);
    for r in reserved {
        let _ = write!(
            s,
            "\n    {:#x}..{:#x} {:>8} KiB  {}",
            r.range.start,
            r.range.end,
            (r.range.end - r.range.start) >> 10,
            r.name
        );
    }
    let (free, total) = mm::frame_counts();
    let _ = write!(s, "\n    frames: {free} free of {total} ({} MiB free)", (free * 4096) >> 20);
    let _ = write!(s, "\n    memdev buffer at {:#x}, {} KiB", memdev.as_u64(), cmd.memdev_size >> 10);
    let _ = write!(s, "\n    UART {:#x}, GIC {:?}", plat.uart.start, plat.gic);
    log::info!("{s}");
    mm::kernel_space::log_layout();
}

/// A short check that the machine works as the boot claims.
fn self_check() {
    let (free_before, _) = mm::frame_counts();
    let v: alloc::vec::Vec<u64> = (0..100_000).collect();
    assert_eq!(v.iter().sum::<u64>(), 4_999_950_000);
    drop(v);
    let t0 = timer::ticks();
    while timer::ticks() < t0 + 2 {
        cpu::wait_for_interrupt();
    }
    let (free_after, _) = mm::frame_counts();
    log::info!(
        "self-check: heap ok, timer ticking ({} ticks), frames {} -> {}",
        timer::ticks(),
        free_before,
        free_after
    );
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let loc = info.location().map(|l| (l.file(), l.line(), l.column()));
    match loc {
        Some((f, l, c)) => {
            console::emergency_print(format_args!("\n*** kernel panic at {f}:{l}:{c}: {}\n", info.message()))
        }
        None => console::emergency_print(format_args!("\n*** kernel panic: {}\n", info.message())),
    }
    semihosting::exit(101)
}
