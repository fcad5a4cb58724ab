/**
 * fork() (kernel/fork.c: copy_process() → dup_mm() → dup_mmap()): a new mm
 * with copies of the parent's VMAs and, where needed, of its page tables
 * (copy_page_range()). VM_DONTCOPY VMAs are left out, VM_WIPEONFORK ones
 * start empty, mlock is not inherited, MMF_HAS_PINNED is not inherited.
 * write_protect_seq is odd while the page tables are copied, which makes
 * GUP-fast back off.
 */
import { ENOMEM } from "../include/errno.js";
import { VM_DONTCOPY, VM_LOCKED, VM_LOCKONFAULT, VM_WIPEONFORK } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { hugetlb_vma, set_hugetlb_vma } from "../mm/hugetlb_fault.js";
import { copy_page_range } from "../mm/memory.js";
import { MmStruct, VmArea } from "../mm/mm_types.js";
import { exit_mmap } from "./exit.js";
import { Task } from "./task.js";

export function dup_mm(k: Kernel, parent: MmStruct): MmStruct | number {
  const mm = new MmStruct(k.newId("mm"), parent.mmap_base);
  mm.def_flags = parent.def_flags & ~(VM_LOCKED | VM_LOCKONFAULT);
  parent.write_protect_seq++;
  let err = 0;
  for (const src of parent.vmas) {
    if (src.vm_flags & VM_DONTCOPY) continue;
    const dst = new VmArea(
      mm,
      src.vm_start,
      src.vm_end,
      src.vm_flags & ~(VM_LOCKED | VM_LOCKONFAULT),
      src.vm_pgoff,
      src.vm_file,
      src.vm_ops,
    );
    if (src.isHugetlb()) {
      // the child does not own the parent's reservations (HPAGE_RESV_OWNER is cleared)
      set_hugetlb_vma(dst, { h: hugetlb_vma(src).h, resv: null, unmapped: false });
    }
    mm.insertVma(dst);
    mm.total_vm += dst.pages();
    if (src.vm_file) k.mappings.get(src.vm_file.inodeId)?.i_mmap.add(dst);
    if (src.vm_flags & VM_WIPEONFORK) continue; // anon_vma_prepare() will happen on the first fault
    if (src.anon_vma) {
      // anon_vma_fork(): link into every anon_vma of the parent's chain, plus a new one
      const av = k.newAnonVma(src.anon_vma);
      dst.anonVmaChain = [...src.anonVmaChain, av];
      for (const a of dst.anonVmaChain) a.vmas.add(dst);
      dst.anon_vma = av;
    }
    const r = copy_page_range(k, dst, src);
    if (r < 0) {
      err = r;
      break;
    }
  }
  parent.write_protect_seq++;
  if (err) {
    exit_mmap(k, mm);
    return err === -ENOMEM ? -ENOMEM : err;
  }
  return mm;
}

/** kernel_clone() for a process fork: returns the child task or -errno. */
export function do_fork(k: Kernel, parent: Task, name: string): Task | number {
  if (!parent.mm) return -ENOMEM;
  const mm = k.asTask(parent, () => dup_mm(k, parent.mm!));
  if (typeof mm === "number") return mm;
  const child = new Task(k.newId("pid"), name, mm, parent.uid, parent.caps, parent.rlimitMemlock, parent);
  child.numa_node = parent.numa_node;
  for (const [fd, f] of parent.files) child.files.set(fd, f.dup ? f.dup() : f);
  parent.children.push(child);
  k.tasks.set(child.pid, child);
  k.trace.emit("fork", "kernel/fork.c: dup_mmap()", { parent: parent.pid, child: child.pid, mm: mm.id });
  return child;
}
